"""Running the daily clock (services.clock) from the runtime: under the rules' lock, with
the case-file and network views brought up to date and read for it."""

from __future__ import annotations

from datetime import date
from typing import Callable
from uuid import UUID

from adapters.runtime.catch_up import catch_up
from adapters.runtime.locks import RULES, AdvisoryLock, Busy, projector_lock
from adapters.runtime.registry import open_view
from adapters.store.application import StoredCaseFiles
from domain.calendar import today_in_china
from services.clock import tick_until
from services.rules import RulesEngine


class PostgresClockViews:
    """services.clock.ClockViews on the live PostgreSQL views: brought up to date by
    ``catch_up``, which waits for the worker that projects a view instead of writing it
    beside that worker (bug E)."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def bring_up_to_date(self) -> None:
        for name in ("casefiles", "network"):
            catch_up(self.env, name)

    def open_organization_ids(self) -> list[str]:
        return self._read("casefiles", lambda view: view.open_identifiers())

    def open_warning_ids(self) -> list[UUID]:
        return self._read("network", lambda view: view.open_warning_ids())

    def _read(self, name: str, query: Callable) -> list:
        view = open_view(self.env, name)
        try:
            return list(query(view))
        finally:
            view.datastore.close()


def clock_tick(env: dict[str, str], until: date | None = None, *,
               in_worker: bool = False) -> list[date]:
    """Run the daily clock up to ``until`` (default today in China): the rules and the
    views it reads brought up to date, then every day not yet ticked.

    The rules and the clock belong to whoever holds the rules' lock: inside the worker
    that is the worker (``in_worker``); outside, this takes the lock for the tick and
    refuses (``Busy``) while a worker holds it: a running worker ticks every day by
    itself, and two tickers would race."""
    if not in_worker:
        lock = AdvisoryLock(env, projector_lock(env, RULES), label="casefile clock tick")
        if not lock.try_take(raise_errors=True):
            lock.release()
            raise Busy("a worker runs the rules and the daily clock (it ticks every day by "
                       "itself); stop it, or run the worker with --no-rules, to tick by hand")
        try:
            return clock_tick(env, until, in_worker=True)
        finally:
            lock.release()
    app = StoredCaseFiles(env=env)
    try:
        return tick_until(until or today_in_china(), RulesEngine(app), PostgresClockViews(env))
    finally:
        app.close()
