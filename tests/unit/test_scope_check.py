"""The caller's scope is checked by the command on the aggregate it loads
(services.application.checking_scope): before it decides, before an idempotent replay,
and never silently skipped."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.application import checking_scope
from tests.conftest import meta
from tests.support import COMMITTEE, code


class Refused(Exception):
    pass


def register(app) -> None:
    app.register_organization(
        meta=meta("2020-05-01"), code=code(1), name="示例协会", org_type="social_association",
        domicile={"address": "示例路1号", "jurisdiction": COMMITTEE}, business_scope="志愿服务",
        registered_funds=Decimal(30000), supervisory_unit=None, founded_on=date(2020, 5, 1),
        certificate_valid_until=date(2025, 4, 30))


def interview(app, **kwargs):
    return app.execute(code(1), "interview", meta=meta(), person_name="甲", person_role="理事长",
                       topics=["年检"], **kwargs)


def test_the_check_sees_the_loaded_organization_and_refuses_before_anything_is_saved(memory_app):
    register(memory_app)
    seen = []

    def refuse(org):
        seen.append(org.identifier)
        raise Refused

    before = memory_app.recorder.max_notification_id()
    with pytest.raises(Refused), checking_scope(refuse):
        interview(memory_app)
    assert seen == [code(1)]
    assert memory_app.recorder.max_notification_id() == before


def test_a_replay_is_checked_too(memory_app):
    register(memory_app)
    first = interview(memory_app, idempotency_key="k1", fingerprint="f")
    with checking_scope(lambda org: None):
        again = interview(memory_app, idempotency_key="k1", fingerprint="f")
    assert again.replayed and again.version == first.version
    with pytest.raises(Refused), checking_scope(lambda org: (_ for _ in ()).throw(Refused())):
        interview(memory_app, idempotency_key="k1", fingerprint="f")


def test_a_command_that_never_ran_the_check_is_an_error(memory_app):
    register(memory_app)
    with pytest.raises(RuntimeError):
        with checking_scope(lambda org: None):
            memory_app.get_organization(code(1))  # no command: nothing checked
    interview(memory_app)  # outside: no check at all
