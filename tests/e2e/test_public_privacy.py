"""No personal data in anything the public can read: the demo district is generated, then
every public page (each organization's disclosure page and its JSON, the public search
for each organization's name, the sign-in and documentation pages) and every API response
an anonymous caller gets is scanned for identity numbers (any 18-character identity-number
pattern, and each number the demo generated), leaders' names and their birth dates.
Pages are fetched in-process through the Flask test client."""

from __future__ import annotations

import re
from datetime import date

from adapters.seed.demo import generate
from tests.integration.test_demo import organizations

TODAY = date(2026, 6, 30)
ORGS, YEARS, SEED = 120, 4, 2025
ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
                        r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9A-Za-z])")
MASKED = re.compile(r"[0-9]{3}\*{6,}[0-9Xx]{4}")  # even the masked form is not public
DATE_FIELDS = ("registered_on", "certificate_valid_until", "listed_on", "removed_on",
               "decision_date")


def test_no_public_page_or_response_shows_personal_data(pg_app, postgres_env):
    from adapters.runtime.catch_up import catch_up
    from adapters.web import close_app, create_app

    id_numbers: set[str] = set()
    generate(pg_app, orgs=ORGS, years=YEARS, seed=SEED, echo=lambda _: None, today=TODAY,
             taken_id_numbers=id_numbers)
    orgs = organizations(pg_app)
    names = {leader["name"] for o in orgs for leader in o.leaders.values()}
    names |= {leader["name"] for o in orgs for leader in
              (o.former_leaders.values() if isinstance(o.former_leaders, dict)
               else o.former_leaders) if isinstance(leader, dict) and leader.get("name")}
    assert len(id_numbers) > ORGS and len(names) > ORGS  # the scan has something to find
    births = {f"{n[6:10]}-{n[10:12]}-{n[12:14]}" for n in id_numbers}
    births_compact = {n[6:14] for n in id_numbers}
    catch_up(postgres_env, "casefiles")

    web = create_app({"CASEFILES": pg_app, "TESTING": True})
    try:
        client = web.test_client()  # anonymous: never signed in
        responses: dict[str, str] = {}
        public_dates: set[str] = set()

        def fetch(url: str, ok: bool = True) -> str:
            response = client.get(url)
            if ok:
                assert response.status_code == 200, url
            responses[url] = response.get_data(as_text=True)
            return responses[url]

        for org in orgs:
            fetch(f"/public/organizations/{org.identifier}")
            document = client.get(f"/public/organizations/{org.identifier}?format=json")
            assert document.status_code == 200
            responses[f"/public/organizations/{org.identifier}?format=json"] = document.text
            for key, value in _walk(document.json):
                if key in DATE_FIELDS and isinstance(value, str):
                    public_dates.add(value)
            found = fetch(f"/public/organizations?q={org.name}")
            assert org.identifier in found, org.name  # the search does list it
        for url in ("/public/organizations", "/public/organizations?q=协会",
                    "/public/organizations?q=中心", "/signin", "/docs", "/openapi.json",
                    "/healthz", "/readyz"):
            fetch(url, ok=url not in ("/readyz",))
        # every API route an anonymous caller can reach answers without personal data
        sample = orgs[0].identifier
        for rule in web.url_map.iter_rules():
            if not rule.rule.startswith("/api/") or "GET" not in rule.methods:
                continue
            url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: sample if m.group(1) == "code"
                         else "x", rule.rule)
            response = client.get(url)
            assert response.status_code in (401, 404), url
            responses[url] = response.get_data(as_text=True)
        assert len(responses) > 3 * len(orgs)

        leaks = []
        for url, text in responses.items():
            leaks += [f"{url}: masked identity number" for _ in MASKED.findall(text)]
            for match in ID_PATTERN.findall(text):
                leaks.append(f"{url}: identity-number pattern {match[:4]}…")
            leaks += [f"{url}: generated identity number …{n[-4:]}" for n in id_numbers
                      if n in text or n[:6] + "*" in text]
            leaks += [f"{url}: leader's name {name}" for name in names if name in text]
            leaks += [f"{url}: birth date {b}" for b in births - public_dates if b in text]
            leaks += [f"{url}: birth date {b}" for b in births_compact if b in text]
        assert leaks == []
    finally:
        close_app(web)


def _walk(value, key=None):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value
