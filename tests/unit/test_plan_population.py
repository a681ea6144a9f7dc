"""An inspection plan's population, from a register (the port the read models implement;
here a fake): the active organizations under the jurisdiction, page after page, and the
high-risk ones by their risk flags or the network's flags."""

from __future__ import annotations

from services.inspection_plans import draw_inspection_plan, get_plan, population
from tests.conftest import meta

DISTRICT = "310110000000"


class FakeRegister:
    def __init__(self, rows: list[dict], flagged: dict[str, list[str]]):
        self.rows, self.by_flag = rows, flagged
        self.asked: list[tuple[str, int]] = []

    def active(self, prefix: str, limit: int, offset: int):
        self.asked.append((prefix, offset))
        found = [r for r in self.rows if r["jurisdiction"].startswith(prefix)]
        return len(found), found[offset:offset + limit]

    def flagged(self, prefix: str, flag: str, limit: int, offset: int):
        found = [{"identifier": i} for i in self.by_flag.get(flag, [])]
        return len(found), found[offset:offset + limit]


def rows(n: int, jurisdiction: str = "310110001001", flags=()) -> list[dict]:
    return [{"identifier": f"ORG{i:05d}", "jurisdiction": jurisdiction,
             "risk_flags": list(flags) if i % 10 == 0 else []} for i in range(n)]


def test_every_page_is_read_and_the_high_risk_come_from_both_kinds_of_flag():
    register = FakeRegister(rows(1200, flags=["credit_listed"]) + rows(3, "310230001001"),
                            {"zombie_candidate": ["ORG00001", "OUTSIDE"],
                             "warning_high": ["ORG00002"]})
    everyone, high_risk = population(register, DISTRICT)
    assert len(everyone) == 1200 and [o for _, o in register.asked] == [0, 500, 1000]
    assert set(high_risk) == {f"ORG{i:05d}" for i in range(0, 1200, 10)} | {"ORG00001",
                                                                            "ORG00002"}


def test_a_plan_drawn_from_the_register_records_its_population(memory_app):
    register = FakeRegister(rows(200, flags=["overdue_rectification"]), {})
    plan = draw_inspection_plan(memory_app, register=register, number="2024-001",
                                jurisdiction=DISTRICT, seed=7, inspectors=["甲", "乙"],
                                authority_level=None, meta=meta("2024-03-01"))
    stored = get_plan(memory_app, "2024-001")
    assert len(stored.population) == 200 and len(stored.high_risk) == 20
    assert stored.verify() and stored.drawn == plan.drawn
