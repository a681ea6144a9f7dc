"""The OpenAPI document covers every endpoint, and requests that follow it are accepted."""

from __future__ import annotations

import jsonschema

from tests.support import registration


def test_every_api_route_is_documented_with_its_body(api):
    spec = api.get("/openapi.json", as_=None).json
    assert spec["openapi"].startswith("3.1")
    web = api.client.application
    routes = {r.rule for r in web.url_map.iter_rules() if r.rule.startswith("/api/")}
    import re

    documented = {re.sub(r"\{(\w+)\}", r"<\1>", p) for p in spec["paths"]}
    assert {re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", r) for r in routes} <= documented
    register = spec["paths"]["/api/v1/organizations"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert set(register["required"]) >= {"code", "name", "type", "domicile"}
    jsonschema.validate(registration(1), register)  # the brief's example body fits
    bad = dict(registration(1), type="club")
    try:
        jsonschema.validate(bad, register)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("the schema should refuse an unknown type")
    page = api.get("/docs", as_=None)
    assert page.status_code == 200 and "/api/v1/organizations/{code}/penalties" in page.text


def test_the_query_parameters_of_reads_are_documented(api):
    spec = api.get("/openapi.json", as_=None).json

    def query(path: str) -> dict:
        return {p["name"]: p["schema"] for p in spec["paths"][path]["get"]["parameters"]
                if p["in"] == "query"}

    assert query("/api/v1/organizations/{code}/events") == {
        "after_version": {"type": "integer", "minimum": 0, "maximum": 10 ** 9},
        "limit": {"type": "integer", "minimum": 1, "maximum": 5000}}
    assert {"as_of", "known_at", "after"} <= set(query("/api/v1/organizations/{code}"))
    assert {"q", "limit", "offset"} <= set(query("/api/v1/organizations"))
    page = api.get("/docs", as_=None).text
    assert 'placeholder="after_version=&amp;limit="' in page


def test_every_list_documents_the_one_pager(api):
    """Every list of the API takes the same ``offset`` and ``limit`` (adapters/web/
    paging.py), declared once, and refuses a bad one with a 400 naming it."""
    from adapters.web.paging import PAGING

    spec = api.get("/openapi.json", as_=None).json
    lists = ["/api/v1/organizations", "/api/v1/warnings", "/api/v1/proposals",
             "/api/v1/network/{code}/organizations", "/api/v1/organizations/{code}/audit"]
    for path in lists:
        declared = {p["name"]: p["schema"] for p in spec["paths"][path]["get"]["parameters"]
                    if p["in"] == "query"}
        assert {name: declared.get(name) for name in PAGING} == \
            {name: schema for name, (schema, _text) in PAGING.items()}, path
    api.post("/api/v1/organizations", registration(1))
    for path in [p.replace("{code}", c) for p in lists
                 for c in (["310110000000"] if "network" in p else [registration(1)["code"]])]:
        for bad in ("limit=0", "limit=501", "offset=-1", "offset=x"):
            answer = api.get(f"{path}?flag=warning&{bad}")
            assert answer.status_code == 400, (path, bad)
            assert answer.json["error"]["field"] == bad.split("=")[0]
