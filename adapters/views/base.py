"""The base of the PostgreSQL read models: each view writes its rows and its tracking
position in one transaction (STYLE habit 4), and keeps each organization's state beside
them. Table names derive from the projection's tracking table (``casefiles_tracking`` ->
``casefiles_rows``, ``casefiles_states``), so a rebuild can write a shadow copy beside the
live one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composed, Identifier

from adapters.store.ddl import SerializedDDL
from adapters.store.transcoding import make_transcoder
from domain.organization import Organization
from projections.base import StatefulView


class PostgresStatefulView(SerializedDDL, PostgresTrackingRecorder, StatefulView):
    """Keeps each organization's state (the aggregate, transcoded like a snapshot)."""

    positional_checksum = True  # checksum(up_to=P) covers exactly the rows as of P

    def __init__(self, datastore: PostgresDatastore, *,
                 tracking_table_name: str = "view_tracking", **kwargs: Any):
        super().__init__(datastore, tracking_table_name=tracking_table_name, **kwargs)
        self.prefix = tracking_table_name.removesuffix("_tracking")
        self.transcoder = make_transcoder()
        self.states_table = self.table("states")
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {t} (organization_id uuid PRIMARY KEY, "
            "version bigint NOT NULL, topic text NOT NULL, state bytea NOT NULL)"
        ).format(t=self.states_table))

    def table(self, suffix: str) -> Composed:
        name = f"{self.prefix}_{suffix}"
        self.check_identifier_length(name)
        return SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(name))

    def load_states(self, ids: Sequence[UUID]) -> dict[UUID, Organization]:
        if not ids:
            return {}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT organization_id, version, topic, state FROM {t} "
                             "WHERE organization_id = ANY(%s)").format(t=self.states_table),
                         (list(ids),))
            rows = curs.fetchall()
        states = {}
        for row in rows:
            snapshot = Organization.Snapshot(
                originator_id=row["organization_id"], originator_version=row["version"],
                timestamp=datetime.now(timezone.utc), topic=row["topic"],
                state=self.transcoder.decode(bytes(row["state"])))
            states[row["organization_id"]] = snapshot.mutate(None)
        return states

    def _store_states(self, curs: Any, states: Sequence[Organization]) -> None:
        if not states:
            return
        params = []
        for org in states:
            snapshot = Organization.Snapshot.take(org)
            params.append((org.id, org.version, snapshot.topic,
                           self.transcoder.encode(snapshot.state)))
        curs.executemany(SQL(
            "INSERT INTO {t} (organization_id, version, topic, state) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (organization_id) DO UPDATE SET version = EXCLUDED.version, "
            "topic = EXCLUDED.topic, state = EXCLUDED.state").format(t=self.states_table),
            params)

    def store(self, states: Sequence[Organization], rows: list[Any],
              tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._claim(curs, tracking)
            self._store_states(curs, states)
            self._store_rows(curs, states, rows)
            self._insert_tracking(curs, tracking)

    def _claim(self, curs: Any, tracking: Tracking) -> None:
        """Lock the view's tracking row and refuse the batch unless the view stands before
        the batch's *first* event. The library's own check (in ``_insert_tracking``) only
        compares the batch's last position: of two projectors whose batches overlap, the
        one ending later would still commit, applying the shared events twice (bug E). A
        page (``adapters.runtime.catch_up.replay``, the worker's batches) carries its first
        position (``PageTracking``); a single event's first position is its own. The row is inserted (at 0, within this
        transaction) when missing, so that two first batches also serialize on it."""
        if not self.datastore.single_row_tracking:
            return
        first = getattr(tracking, "first", None) or tracking.notification_id
        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                      Identifier(self.tracking_table_name))
        curs.execute(SQL("INSERT INTO {t} (application_name, notification_id) "
                         "VALUES (%s, 0) ON CONFLICT (application_name) DO NOTHING")
                     .format(t=table), (tracking.application_name,), prepare=True)
        curs.execute(SQL("SELECT notification_id FROM {t} WHERE application_name = %s "
                         "FOR UPDATE").format(t=table), (tracking.application_name,),
                     prepare=True)
        stored = curs.fetchone()["notification_id"] or 0
        if stored >= first:
            raise IntegrityError(
                f"{self.prefix}: refused the batch of positions {first}..."
                f"{tracking.notification_id}: the view already stands at {stored} "
                "(another projector of this view wrote it meanwhile)")

    def _store_rows(self, curs: Any, states: Sequence[Organization], rows: list[Any]) -> None:
        raise NotImplementedError

    def _digest(self, query: Composed, params: tuple = ()) -> tuple[int, str]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, params)
            row = curs.fetchone()
        return row["n"], row["digest"] or ""

    def drop_tables(self, suffixes: Sequence[str]) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for suffix in suffixes:
                curs.execute(SQL("DROP TABLE IF EXISTS {t}").format(t=self.table(suffix)))
