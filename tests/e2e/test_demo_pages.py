"""The pages of a demo district as each demo role reads them (issue 14, items 2 and 3).

Every page reachable from the navigation, for every demo account and anonymously, in
Chinese and in English: no internal code shown as text (an enum value, a role, an event
type, a rule's or a field's name), no English on a Chinese page outside the allowlist, no
Python value shown as it is, every time with its zone. And every list, in the pages and
in the API, paged to its last page: the rows add up to the total it announced, the
filters hold on every page, and a bad page is a 400.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter, deque
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest

from adapters.commands.catalog import COMMANDS
from adapters.commands import validation as v
from domain import (access, credit_remedies, inspection_plan, meta as domain_meta,
                    network as domain_network, organization, person, account, rules)
from domain.rules import CATALOG
from projections.network import FIGURES, FLAGS
from tests.demo_site import DEMO_USERS, Page, open_demo_site


@pytest.fixture(scope="module")
def site(database_url):
    yield from open_demo_site(database_url)


# --------------------------------------------------------------- the known codes

def _event_names() -> set[str]:
    names = set()
    for module in (organization, domain_network, person, account, rules, inspection_plan):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            for name, member in vars(cls).items():
                if inspect.isclass(member) and name not in ("Event", "Created") and \
                        hasattr(member, "originator_id"):
                    names.add(name)
    return names


def _schema_codes(schema: dict[str, v.F], found: set[str]) -> None:
    for name, spec in schema.items():
        found.add(name)
        if spec.kind == "enum":
            found.update(spec.choices)
        if spec.item is not None and spec.item.kind == "enum":
            found.update(spec.item.choices)
        if spec.kind == "object":
            _schema_codes(spec.schema, found)


def known_codes() -> tuple[set[str], set[str]]:
    """(codes of several words or parts: never shown as text anywhere; codes of one
    word: never a text of their own)."""
    codes: set[str] = set(domain_meta.ROLES) | set(access.POLICY)
    for values in (organization.ORG_TYPES, organization.CLOSED_STATUSES, ("active",
                   "suspended"), organization.CONCLUSIONS, organization.CREDIT_LISTS,
                   organization.PENALTY_KINDS, organization.LEADER_ROLES,
                   organization.OFFICIAL_STATUSES, organization.MAJOR_EVENT_CATEGORIES,
                   organization.MAJOR_EVENT_RECIPIENTS, organization.RISK_LEVELS,
                   domain_network.SEVERITIES, domain_network.SOURCES, domain_network.LEVELS,
                   domain_network.PROPOSAL_KINDS, inspection_plan.AUTHORITY_LEVELS,
                   inspection_plan.HIGH_RISK_FLAGS, FLAGS, FIGURES, CATALOG,
                   ("open", "acknowledged", "resolved", "proposed", "confirmed", "rejected",
                    "overdue", "completed", "expiring", "expired", "valid",
                    "late_major_event", "open_rectification", "unqualified"),
                   credit_remedies.OBJECTION_ENTRIES, credit_remedies.OBJECTION_OUTCOMES,
                   credit_remedies.REPAIR_OUTCOMES, ("pending",)):
        codes.update(values)
    for command in COMMANDS:
        _schema_codes(command.schema, codes)
    codes.update(_event_names())
    codes -= set(organization.GRADES)
    compound = {c for c in codes if re.search(r"[_+]|[a-z][A-Z]", c)}
    # one capitalized word (an event type: "Registered") reads as English, which a
    # Chinese page may not show at all; on an English page it may be a label's word
    return compound, {c for c in codes - compound if c.islower()}


COMPOUND, SINGLE = known_codes()
COMPOUND_RE = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, sorted(COMPOUND, key=len,
                                                                         reverse=True)))
                         + r")(?![\w])")
# English a Chinese page may show: formats the reader types or files they handle
ALLOWED_ENGLISH = {"CSV", "XLSX", "JSON", "UTF-8", "YYYY-MM-DD", "Excel", "PDF", "JPEG",
                   "PNG"}
PYTHON_VALUES = re.compile(r"\bNone\b|\bTrue\b|\bFalse\b|\{'|'\}|\['|'\]|\[\]|\{\}|"
                           r"datetime\.|Decimal\(|\[erased\]")
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
ZONE = {"zh": "(北京时间)", "en": "(CST, UTC+8)"}


def problems(page: Page, lang: str, usernames: set[str]) -> list[str]:
    found = []
    if (page.declared or "").split("-")[0] != lang:
        found.append(f"the page says it is in {page.declared!r}")
    for text in page.texts:
        for match in COMPOUND_RE.finditer(text):
            found.append(f"code {match.group(1)!r} in {text[:80]!r}")
        if text.strip(" ·:()") in SINGLE:
            found.append(f"code {text!r}")
        if PYTHON_VALUES.search(text):
            found.append(f"Python value in {text[:80]!r}")
        for match in TIME.finditer(text):
            if not text[match.end():].lstrip(":0123456789 ").startswith(ZONE[lang]):
                found.append(f"a time without its zone {ZONE[lang]} in {text[:80]!r}")
        if lang == "zh":
            for word in re.findall(r"[A-Za-z0-9][\w\-.@:'’]*", text):
                if re.search(r"[0-9]", word) and not re.search(r"[_@]", word) or \
                        word in ALLOWED_ENGLISH or word in usernames or \
                        len(re.sub(r"[^A-Za-z]", "", word)) < 2:
                    continue  # an identifier, a number, a format, an account's name
                found.append(f"English {word!r} in {text[:80]!r}")
    return found


# --------------------------------------------------------------------- the crawl

DOWNLOADS = ("application/pdf", "text/csv",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
SKIPPED = ("/docs", "/openapi.json", "/static/", "/api/", "/signout",
           "/public/open-data/files/")  # data files, not pages (tests/e2e/test_open_data.py)
ID_SEGMENT = re.compile(r"[0-9A-Z]{18}|BA[0-9A-F]{10,}|[0-9]{12}|[0-9a-f-]{36}|[0-9]+|.*%.*")


def pattern(url: str) -> str:
    """What makes two URLs the same page for the crawl: the path with its identifiers
    blanked, and the query's names and (non-identifier) values, without the offset."""
    parts = urlsplit(url)
    path = "/".join("*" if ID_SEGMENT.fullmatch(s) else s for s in parts.path.split("/"))
    query = sorted((k, "*" if ID_SEGMENT.fullmatch(x) else x)
                   for k, x in parse_qsl(parts.query) if k not in ("offset", "next"))
    return f"{path}?{urlencode(query)}"


# the registration staff's crawl opens every organization's case file and audit trail
# (the register's pages link them all); the other roles', two of a kind, as of any kind
EVERY = ("/organizations/*?", "/organizations/*/audit?")


def crawl(site, username: str | None, lang: str, per_pattern: int = 2, most: int = 600
          ) -> dict[str, tuple[int, str]]:
    """Every page reachable from the start by following links (of a kind, at most
    ``per_pattern``, but for the staff's EVERY): url -> (status, html)."""
    every = EVERY if username == "demo-staff" else ()
    client = site.client(username, lang)
    start = "/" if username else "/public/organizations"
    queue, seen, kinds, pages = deque([start]), set(), Counter(), {}
    while queue and len(pages) < most:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            queue.appendleft(urlsplit(urljoin(url, response.headers["Location"]))._replace(
                scheme="", netloc="").geturl())
            continue
        if response.mimetype != "text/html":  # a printed case file, a statistics table
            assert response.status_code == 200 and response.mimetype in DOWNLOADS, url
            continue
        html = response.get_data(as_text=True)
        pages[url] = (response.status_code, html)
        for link in Page(html, lang).links:
            target = urljoin(url, link.split("#")[0])
            parts = urlsplit(target)
            if not target or parts.netloc and parts.netloc != "localhost" or \
                    parts.path.startswith(SKIPPED) or "lang" in dict(parse_qsl(parts.query)):
                continue
            target = parts._replace(scheme="", netloc="").geturl()
            kind = pattern(target)
            if target not in seen and (kind in every or kinds[kind] < per_pattern):
                kinds[kind] += 1
                queue.append(target)
    return pages


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_of_the_demo_reads_in_the_readers_language(site, lang):
    usernames = set(site.usernames)
    found, visited = [], Counter()
    for username in [*DEMO_USERS, None]:
        pages = crawl(site, username, lang)
        visited[username] = len(pages)
        for url, (status, html) in pages.items():
            if status >= 400:
                found.append(f"{username} {url}: {status}")
            for problem in problems(Page(html, lang), lang, usernames):
                found.append(f"{username} {url}: {problem}")
    assert all(visited.values()) and visited["demo-staff"] > 200, visited
    assert not found, f"{len(found)} problems, e.g.:\n" + "\n".join(
        sorted(set(found), key=found.index)[:60])


# ---------------------------------------------------------------------- paging

LIMIT = 4


def api_pages(site, username: str, path: str, key: str) -> tuple[int, list[dict]]:
    """Every row of an API list, read ``LIMIT`` at a time to its last page; the total
    announced, checked to be the same on every page."""
    client = site.web.test_client()
    headers = {"Authorization": f"Bearer {site.tokens[username]}"}
    rows, offset, total = [], 0, None
    while total is None or offset < total:
        sep = "&" if "?" in path else "?"
        answer = client.get(f"{path}{sep}limit={LIMIT}&offset={offset}", headers=headers)
        assert answer.status_code == 200, (path, answer.text)
        page = answer.json
        assert (page["offset"], page["limit"]) == (offset, LIMIT)
        assert total is None or page["total"] == total, path
        total = page["total"]
        expected = min(LIMIT, total - offset)
        assert len(page[key]) == expected, (path, offset)
        rows += page[key]
        offset += LIMIT
    return total, rows


API_LISTS = [
    # (who, the list with its filters, the rows' key, each row's identity, the filter)
    ("demo-staff", "/api/v1/organizations?status=active", "organizations", "identifier",
     lambda r: r["status"] == "active"),
    ("demo-staff", "/api/v1/organizations?q=%E6%9D%A8%E6%B5%A6%E5%8C%BA", "organizations",  # 杨浦区
     "identifier", lambda r: "杨浦区" in r["name"]),
    ("demo-staff", "/api/v1/warnings?status=open", "warnings", "warning_id",
     lambda r: r["status"] == "open"),
    ("demo-staff", "/api/v1/proposals?status=confirmed", "proposals", "proposal_id",
     lambda r: r["status"] == "confirmed"),
    ("demo-staff", "/api/v1/network/310110000000/organizations?flag=credit_listed",
     "organizations", "identifier", lambda r: r["credit_lists"]),
    ("demo-auditor", "/api/v1/organizations/{org}/audit", "entries", "position",
     lambda r: r["identifier"] == DEMO_ORG[0]),
    ("demo-staff", "/api/v1/tasks?kind=warning", "tasks", "id",
     lambda r: r["kind"] == "warning"),
]
DEMO_ORG: list[str] = []


@pytest.mark.parametrize("who, path, key, identity, holds", API_LISTS,
                         ids=[p.split("?")[0] for _, p, *_ in API_LISTS])
def test_every_api_list_pages_to_the_total_it_announced(site, who, path, key, identity,
                                                        holds):
    """Paged 4 at a time to the last page, a list gives every row once, the total it
    announced, the same rows as one page of them all, and only rows its filters allow."""
    DEMO_ORG[:] = [site.casefiles.get_account("demo-org").organization]
    path = path.format(org=DEMO_ORG[0])
    total, rows = api_pages(site, who, path, key)
    assert total > 2 * LIMIT, f"{path}: too few rows ({total}) to page through"
    ids = [r[identity] for r in rows]
    assert len(set(ids)) == total == len(ids)
    assert all(holds(r) for r in rows)
    client = site.web.test_client()
    headers = {"Authorization": f"Bearer {site.tokens[who]}"}
    whole = client.get(f"{path}{'&' if '?' in path else '?'}limit=500", headers=headers).json
    assert whole["total"] == total and [r[identity] for r in whole[key]] == ids
    for bad in ("limit=0", "limit=501", "limit=ten", "offset=-1", "offset=1.5"):
        answer = client.get(f"{path}{'&' if '?' in path else '?'}{bad}", headers=headers)
        assert answer.status_code == 400, bad
        assert answer.json["error"]["field"] == bad.split("=")[0]


PAGE_LISTS = [
    # (who, the page with its filters, the API list it shows, a row's link from the API's)
    ("demo-staff", "/organizations?status=active", "/api/v1/organizations?status=active",
     lambda r: f"/organizations/{r['identifier']}"),
    ("demo-staff", "/warnings?status=open&severity=low",
     "/api/v1/warnings?status=open&severity=low", lambda r: f"/organizations/{r['organization']}"),
    ("demo-staff", "/proposals?status=confirmed", "/api/v1/proposals?status=confirmed",
     lambda r: f"/organizations/{r['organization']}"),
    ("demo-staff", "/network/310110000000/organizations?flag=credit_listed",
     "/api/v1/network/310110000000/organizations?flag=credit_listed",
     lambda r: f"/organizations/{r['identifier']}"),
    ("demo-auditor", "/organizations/{org}/audit", "/api/v1/organizations/{org}/audit",
     lambda r: None),
    ("demo-staff", "/tasks?kind=warning", "/api/v1/tasks?kind=warning", lambda r: r["link"]),
    ("demo-admin", "/admin/accounts", None, None),
    (None, "/public/organizations?q=%E6%9D%A8%E6%B5%A6%E5%8C%BA",  # 杨浦区
     "/api/v1/organizations?q=%E6%9D%A8%E6%B5%A6%E5%8C%BA",
     lambda r: f"/public/organizations/{r['identifier']}"),
]


def without_next(link: str | None) -> str | None:
    """A row's link without the way back it carries (``next=``: the list's own page)."""
    if link is None or "next=" not in link:
        return link
    parts = urlsplit(link)
    return parts._replace(query=urlencode([(k, x) for k, x in parse_qsl(parts.query)
                                           if k != "next"])).geturl()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("who, path, api_path, link", PAGE_LISTS,
                         ids=[p.split("?")[0] for _, p, *_ in PAGE_LISTS])
def test_every_list_page_pages_to_its_total_and_keeps_its_filters(site, who, path, api_path,
                                                                  link, lang):
    """From the first page, the pager's "next" link to the last page: each page shows
    the rows it says ("rows 5-8 of 30"), every link keeps the filters, and the pages
    together show the rows of the API's list for the same filters, in its order."""
    org = site.casefiles.get_account("demo-org").organization
    path, api_path = path.format(org=org), (api_path or "").format(org=org)
    limit = 3 if who == "demo-admin" else LIMIT
    client = site.client(who, lang)
    url = f"{path}{'&' if '?' in path else '?'}limit={limit}"
    filters = dict(parse_qsl(urlsplit(url).query))
    seen, offsets, total = [], [], None
    while url:
        answer = client.get(url)
        assert answer.status_code == 200, url
        page = Page(answer.get_data(as_text=True), lang)
        assert page.pager, f"{url}: no pager"
        offset = page.pager["offset"]
        total = page.pager["total"] if total is None else total
        assert page.pager["total"] == total and page.pager["limit"] == limit
        assert page.rows == min(limit, total - offset), url
        # the pager's words ("rows 5-8 of 30"): a text with the total as a number of its
        # own, and a range that is not part of a date (a verification time of 15:16 on
        # 2026-12-07 holds "15" and "2026-12")
        shown = re.search(r"(?<![\d-])(\d+)[-–](\d+)(?![\d-])", " ".join(
            t for t in page.texts if re.search(rf"(?<!\d){total}(?!\d)", t)))
        assert shown and (int(shown[1]), int(shown[2])) == (offset + 1, offset + page.rows)
        seen += [without_next(item) for item in page.items]
        offsets.append(offset)
        url = page.rel.get("next")
        if url:
            kept = dict(parse_qsl(urlsplit(url).query))
            assert {k: kept.get(k) for k in filters} == filters, url
            assert int(kept["offset"]) == offset + limit
    assert offsets == list(range(0, total, limit)) and len(offsets) > 2
    assert len(seen) == total
    if who == "demo-admin":
        assert total == len(site.usernames)
        return
    api = site.web.test_client().get(
        f"{api_path}{'&' if '?' in api_path else '?'}limit=500",
        headers={"Authorization": f"Bearer {site.tokens[who or 'demo-auditor']}"}).json
    assert api["total"] == total
    key = next(k for k, x in api.items() if isinstance(x, list) and x and
               isinstance(x[0], dict))  # the rows (not, say, the tasks' list of kinds)
    assert seen == [link(r) for r in api[key]]


def test_a_bad_page_is_refused_on_every_list_page(site):
    org = site.casefiles.get_account("demo-org").organization
    for who, path, *_ in PAGE_LISTS:
        client = site.client(who, "zh")
        for bad in ("limit=0", "limit=501", "offset=-5", "offset=x"):
            url = f"{path.format(org=org)}{'&' if '?' in path else '?'}{bad}"
            answer = client.get(url)
            assert answer.status_code == 400 and answer.mimetype == "text/html", url
            field = "每页行数" if "limit" in bad else "跳过行数"
            assert field in answer.text, (url, answer.text)


def test_an_error_of_a_page_is_a_page_in_the_readers_language(site):
    """A page's error (unknown page or organization, outside the jurisdiction, a method
    it does not take, an expired form) is a page in the reader's language, never the
    API's JSON; the API's errors stay JSON."""
    cases = [("GET", "/no-such-page", 404, "未找到。", "Not found."),
             ("GET", "/organizations/51310110MJ0000001B", 404, "未找到。", "Not found."),
             ("GET", "/network/310230000000", 403, "该事项不在您的管辖范围内。",
              "This lies outside your jurisdiction."),
             ("POST", "/organizations", 405, "本页面不接受该请求。",
              "This page does not take that request."),
             ("POST", "/signout", 403, "表单已过期，请刷新页面后重试。",
              "The form has expired: reload the page.")]
    for lang in ("zh", "en"):
        client = site.client("demo-staff", lang)
        for method, url, status, zh, en in cases:
            answer = client.open(url, method=method)
            assert answer.status_code == status and answer.mimetype == "text/html", url
            page = Page(answer.get_data(as_text=True), lang)
            assert any((zh if lang == "zh" else en) in t for t in page.texts), (url, page.texts)
            assert not problems(page, lang, set(site.usernames)), url
    api = site.web.test_client().get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"
