"""Helpers shared by the tests: valid codes and bodies, an API client with tokens."""

from __future__ import annotations

from typing import Any

from domain.codes import id_number_check_character, make_credit_code
from domain.meta import Meta

DISTRICT = "310110000000"
SUB_DISTRICT = "310110001000"
COMMITTEE = "310110001001"
OTHER_COMMITTEE = "310110002001"
OTHER_DISTRICT = "310230000000"


def code(n: int, category: str = "1", division: str = "310110") -> str:
    """The n-th valid unified social credit code of a category."""
    return make_credit_code(category, division, f"MJ{n:07d}")


def id_number(birth: str = "19700101", n: int = 1, division: str = "310110") -> str:
    first17 = f"{division}{birth}{n:03d}"
    return first17 + id_number_check_character(first17)


def registration(n: int = 1, **overrides: Any) -> dict:
    body = {"code": code(n), "name": f"杨浦区示例志愿者协会{n}", "type": "social_association",
            "domicile": {"address": "上海市杨浦区示例路1号", "jurisdiction": COMMITTEE},
            "business_scope": "志愿服务", "registered_funds": 30000, "supervisory_unit": None,
            "founded_on": "2020-05-01", "certificate_valid_until": "2025-04-30",
            "effective_date": "2020-05-01", "reason": "成立登记"}
    body.update(overrides)
    return body


SUPERVISORY_UNIT = "杨浦区民政局"
ACCOUNTS = {
    # username: (role, jurisdiction, organization)
    "staff": ("registration_staff", DISTRICT, None),
    "other_staff": ("registration_staff", OTHER_DISTRICT, None),
    "street": ("sub_district_office", SUB_DISTRICT, None),
    "officer": ("information_officer", COMMITTEE, None),
    # a supervisory unit's account names its unit (domain.access.supervised_by)
    "supervisor": ("supervisory_unit", DISTRICT, SUPERVISORY_UNIT),
    "auditor": ("auditor", None, None),
    "org1": ("organization", None, code(1)),
}


def open_accounts(casefiles, meta: Meta) -> dict[str, str]:
    """Open the test accounts and return a token for each username."""
    tokens = {}
    for username, (role, jurisdiction, organization) in ACCOUNTS.items():
        casefiles.open_account(username=username, password="correct horse battery",
                               display_name=username, role=role, jurisdiction=jurisdiction,
                               organization=organization, meta=meta)
        tokens[username] = casefiles.issue_token(username, meta)
    return tokens


class Api:
    """A thin client over Flask's test client: ``api.post(path, body, as_="staff")``."""

    def __init__(self, client, tokens: dict[str, str]):
        self.client = client
        self.tokens = tokens

    def headers(self, as_: str | None, extra: dict | None) -> dict:
        headers = {}
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(as_, as_)}"
        headers.update(extra or {})
        return headers

    def post(self, path: str, body: Any = None, as_: str | None = "staff",
             headers: dict | None = None, **kwargs):
        if "data" in kwargs:
            return self.client.post(path, headers=self.headers(as_, headers), **kwargs)
        return self.client.post(path, json=body if body is not None else {},
                                headers=self.headers(as_, headers), **kwargs)

    def get(self, path: str, as_: str | None = "staff", headers: dict | None = None):
        return self.client.get(path, headers=self.headers(as_, headers))

    def org(self, n: int = 1) -> str:
        return f"/api/v1/organizations/{code(n)}"


def signin_form(client, path: str = "/signin", **kwargs) -> str:
    """Open the sign-in form (as a browser does before it posts it) and answer its
    pre-session CSRF token; the client keeps the token's cookie."""
    import re

    page = client.get(path, **kwargs)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def post_signin(client, data: dict, **kwargs):
    """Post the sign-in form as a browser does: after opening it, with its token."""
    return client.post("/signin", data={"csrf_token": signin_form(client, **kwargs), **data},
                       **kwargs)
