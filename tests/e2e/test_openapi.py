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
