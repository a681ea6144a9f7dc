"""The demo district exercises every rule, and its network view shows every indicator."""

from __future__ import annotations

from datetime import date

from adapters.seed.demo import load_demo_once
from adapters.runtime.catch_up import catch_up
from adapters.runtime.registry import open_view
from domain.network import EarlyWarning, Proposal
from domain.rules import CATALOG
from projections.network import FIGURES, roll_up

TODAY = date(2026, 6, 20)


def test_the_demo_fires_every_rule_and_fills_every_indicator(pg_app, postgres_env):
    load_demo_once(pg_app, echo=lambda *_: None, orgs=200, years=5, today=TODAY)
    actors = set()
    for n in pg_app.recorder.select_notifications(start=1, limit=10 ** 6):
        event = pg_app.mapper.to_domain_event(n)
        meta = getattr(event, "meta", None)
        if meta and meta.actor_id.startswith("rule:"):
            actors.add(meta.actor_id.split(":")[1].split("@")[0])
        if isinstance(event, (EarlyWarning.Raised, Proposal.Made)) and event.rule:
            actors.add(event.rule.split(":")[1].split("@")[0])
        for entry in getattr(event, "history", []) or []:
            pass
    firing_rules = {name for name, (_, trigger, _) in CATALOG.items()
                    if trigger in ("events", "clock", "events+clock") and name != "timeliness"}
    assert firing_rules <= actors, firing_rules - actors
    for name in ("casefiles", "network", "audittrail"):
        catch_up(postgres_env, name)
    network = open_view(postgres_env, "network")
    figures, children = roll_up("310110000000", network.leaf_figures(
        "310110", TODAY, certificate_expiry=pg_app.rule("certificate_expiry")))
    assert [f for f in FIGURES if figures[f] == 0] == []
    assert len(children) >= 10
    late = [e for e in open_view(postgres_env, "audittrail").all_entries(10 ** 9) if e["late"]]
    assert late, "rule 12: some credit information recorded late"
