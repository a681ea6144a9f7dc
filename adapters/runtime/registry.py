"""The read models: each projection with its PostgreSQL view and the tables the view
owns (what a rebuild copies and swaps), and how to open a view."""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

from adapters.views.audit import PostgresAuditView
from adapters.views.base import PostgresStatefulView
from adapters.views.casefile import PostgresCaseFileView
from adapters.views.network import PostgresNetworkView
from adapters.views.statistics import PostgresStatisticsView
from projections.audit import AuditProjection
from projections.base import OrganizationProjection
from projections.casefile import CaseFileProjection
from projections.network import NetworkProjection
from projections.statistics import StatisticsProjection


@dataclass(frozen=True)
class ReadModel:
    projection: type[OrganizationProjection]
    view: type[PostgresStatefulView]
    tables: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.projection.name


READ_MODELS = {m.name: m for m in (
    ReadModel(CaseFileProjection, PostgresCaseFileView, ("states", "rows", "leaves")),
    ReadModel(AuditProjection, PostgresAuditView, ("states", "entries")),
    ReadModel(StatisticsProjection, PostgresStatisticsView, ("states", "counts")),
    ReadModel(NetworkProjection, PostgresNetworkView,
              ("states", "warnings", "proposals", "nodes", "plans")),
)}


SMALL_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "9"}


def open_view(env: dict[str, str], name: str, prefix: str | None = None, *,
              create: bool = True) -> PostgresStatefulView:
    """The PostgreSQL view of a read model, live (``{name}_*`` tables) or under a prefix;
    its tables are created unless ``create`` is false (a read replica, which refuses DDL
    and has the primary's tables)."""
    model = READ_MODELS[name]
    factory = PostgresFactory(Environment(name, {**env, **SMALL_POOL}))
    view = model.view(factory.datastore, tracking_table_name=f"{prefix or name}_tracking")
    if create:
        view.create_table()
    return view
