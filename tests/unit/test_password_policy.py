"""The password policy (issue 15, "Sign-in controls"): long enough, not the username or
the name, not a common or easily guessed password; applied wherever a password is set
(here the use cases; the accounts page, /account and the CLI go through them)."""

from __future__ import annotations

import pytest

from domain.errors import RuleViolation
from services.passwords import check_password
from tests.conftest import meta


@pytest.mark.parametrize("password, rule", [
    ("short1!", "password_too_short"),
    ("zhangwei-2024-office", "password_contains_username"),
    ("Zhang Wei 1970 kaiyuan", "password_contains_username"),  # the name
    ("password1234", "password_too_common"),
    ("qwertyuiop123", "password_too_common"),
    ("iloveyou1234", "password_too_common"),
    ("aaaaaaaaaaaaaaaa", "password_too_common"),
    ("abcdefghijklm", "password_too_common"),
])
def test_the_policy_refuses(password, rule):
    with pytest.raises(RuleViolation) as refused:
        check_password(password, username="zhangwei", display_name="zhang wei")
    assert refused.value.rule == rule and refused.value.field == "password"


@pytest.mark.parametrize("password", ["correct horse battery", "tulip submarine orchestra",
                                      "k7#Qm2!xZp9@Lr", "杨浦区民政局社会组织科2024年"])
def test_the_policy_accepts(password):
    check_password(password, username="zhangwei", display_name="zhang wei")


def test_opening_an_account_and_setting_a_password_apply_it(memory_app):
    with pytest.raises(RuleViolation):
        memory_app.open_account(username="weak", password="password1234", display_name="w",
                                role="auditor", jurisdiction=None, organization=None,
                                meta=meta())
    memory_app.open_account(username="strong", password="correct horse battery",
                            display_name="s", role="auditor", jurisdiction=None,
                            organization=None, meta=meta())
    with pytest.raises(RuleViolation):
        memory_app.change_password("strong", "strong-strong-strong", meta())
    memory_app.change_password("strong", "tulip submarine orchestra", meta())
