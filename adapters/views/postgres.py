"""PostgreSQL read models: each view writes its rows and its tracking position in one
transaction (STYLE habit 4). Table names derive from the projection's tracking table
(``casefiles_tracking`` -> ``casefiles_rows``, ``casefiles_states``), so a rebuild can
write a shadow copy beside the live one.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any, Sequence
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composed, Identifier, Literal

from adapters.store.ddl import SerializedDDL
from domain.organization import Organization
from projections.audit import GENESIS, AuditEntry, AuditView, link
from projections.base import StatefulView
from projections.casefile import CaseFileView, TimelineEntry, case_file_row
from projections.network import NetworkView
from projections.statistics import Count, StatisticsView
from adapters.store.transcoding import make_transcoder


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
        page from ``readmodels.replay`` carries its first position (``PageTracking``); a
        single event's first position is its own. The row is inserted (at 0, within this
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


class PostgresCaseFileView(PostgresStatefulView, CaseFileView):
    COLUMNS = ("organization_id", "identifier", "code", "name", "org_type", "status",
               "jurisdiction", "certificate_valid_until", "credit_lists", "latest_conclusion",
               "latest_conclusion_year", "rating", "risk_flags", "version", "document")

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.rows_table = self.table("rows")
        rows = self.rows_table
        for statement in (
            "CREATE TABLE IF NOT EXISTS {t} (organization_id uuid PRIMARY KEY, "
            "identifier text NOT NULL UNIQUE, code text, name text NOT NULL, "
            "org_type text NOT NULL, status text NOT NULL, jurisdiction text NOT NULL, "
            "certificate_valid_until date, credit_lists text[] NOT NULL, "
            "latest_conclusion text, latest_conclusion_year int, rating text, "
            "risk_flags text[] NOT NULL, version bigint NOT NULL, position bigint NOT NULL, "
            "document jsonb NOT NULL, timeline jsonb NOT NULL DEFAULT '[]')",
            "CREATE INDEX IF NOT EXISTS {i1} ON {t} (jurisdiction text_pattern_ops)",
            "CREATE INDEX IF NOT EXISTS {i2} ON {t} (status)",
            "CREATE INDEX IF NOT EXISTS {i3} ON {t} (certificate_valid_until)",
            "CREATE INDEX IF NOT EXISTS {i4} ON {t} USING gin (risk_flags)",
            # The network view's figures and drill-down count every organization under a
            # node: with this covering index they are an index-only scan of a few MB
            # instead of a scan of the wide rows (documents, timelines): 100,000
            # organizations of a district in about a tenth of the time (bench f).
            "CREATE INDEX IF NOT EXISTS {i5} ON {t} (jurisdiction text_pattern_ops, "
            "status, certificate_valid_until) INCLUDE (risk_flags, credit_lists, identifier)",
            "CREATE INDEX IF NOT EXISTS {i6} ON {t} (certificate_valid_until) "
            "INCLUDE (jurisdiction) WHERE status IN ('active', 'suspended')",
            "CREATE INDEX IF NOT EXISTS {i7} ON {t} (jurisdiction text_pattern_ops) "
            "WHERE cardinality(credit_lists) > 0",
        ):
            self.sql_create_statements.append(SQL(statement).format(
                t=rows, i1=Identifier(f"{self.prefix}_jurisdiction_idx"),
                i2=Identifier(f"{self.prefix}_status_idx"),
                i3=Identifier(f"{self.prefix}_certificate_idx"),
                i4=Identifier(f"{self.prefix}_risk_idx"),
                i5=Identifier(f"{self.prefix}_figures_idx"),
                i6=Identifier(f"{self.prefix}_active_certificate_idx"),
                i7=Identifier(f"{self.prefix}_listed_idx")))
        # Organizations per (committee, status), kept by a trigger on the rows in the
        # rows' own transaction: the network view counts a district's organizations from
        # a few hundred rows instead of every row (bench f). The trigger function finds
        # the counts table from the rows table's name, so a rebuild's shadow copy keeps
        # its own and the swap (a rename) keeps them paired; the counts of a view created
        # before the table existed are filled once, under a lock that holds writers off.
        self.leaves_table = self.table("leaves")
        schema = Identifier(self.datastore.schema)
        for statement in (
            "CREATE TABLE IF NOT EXISTS {l} (jurisdiction text NOT NULL, status text NOT NULL, "
            "count bigint NOT NULL, PRIMARY KEY (jurisdiction, status))",
            "CREATE OR REPLACE FUNCTION {s}.casefile_leaf_counts() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ DECLARE leaves text := "
            "regexp_replace(TG_TABLE_NAME, '_rows$', '_leaves'); BEGIN "
            "IF TG_OP IN ('UPDATE', 'DELETE') THEN EXECUTE format('UPDATE %I.%I SET count = "
            "count - 1 WHERE jurisdiction = $1 AND status = $2', TG_TABLE_SCHEMA, leaves) "
            "USING OLD.jurisdiction, OLD.status; END IF; "
            "IF TG_OP IN ('INSERT', 'UPDATE') THEN EXECUTE format('INSERT INTO %I.%I AS l "
            "(jurisdiction, status, count) VALUES ($1, $2, 1) ON CONFLICT (jurisdiction, "
            "status) DO UPDATE SET count = l.count + 1', TG_TABLE_SCHEMA, leaves) "
            "USING NEW.jurisdiction, NEW.status; END IF; RETURN NULL; END $$",
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = "
            "{tn}::regclass AND tgname = 'leaf_counts_insert') THEN "
            "CREATE TRIGGER leaf_counts_insert AFTER INSERT OR DELETE ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION {s}.casefile_leaf_counts(); "
            "CREATE TRIGGER leaf_counts_update AFTER UPDATE ON {t} FOR EACH ROW "
            "WHEN (OLD.jurisdiction IS DISTINCT FROM NEW.jurisdiction OR OLD.status IS "
            "DISTINCT FROM NEW.status) EXECUTE FUNCTION {s}.casefile_leaf_counts(); "
            "END IF; END $$",
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM {l}) AND EXISTS (SELECT 1 FROM {t}) "
            "THEN LOCK TABLE {t} IN SHARE ROW EXCLUSIVE MODE; "
            "IF NOT EXISTS (SELECT 1 FROM {l}) THEN INSERT INTO {l} (jurisdiction, status, "
            "count) SELECT jurisdiction, status, count(*) FROM {t} GROUP BY 1, 2; END IF; "
            "END IF; END $$",
        ):
            self.sql_create_statements.append(SQL(statement).format(
                t=rows, l=self.leaves_table, s=schema,
                tn=Literal(f'"{self.datastore.schema}"."{self.prefix}_rows"')))

    def _store_rows(self, curs: Any, states: Sequence[Organization], rows: list[Any]) -> None:
        timeline: dict[UUID, list[dict]] = {}
        for entry in rows:
            assert isinstance(entry, TimelineEntry)
            timeline.setdefault(entry.organization_id, []).append(entry.entry)
        params = []
        for org in states:
            row = case_file_row(org)
            entries = timeline.get(org.id, [])
            values = [getattr(row, c) for c in self.COLUMNS]
            values[-1] = json.dumps(row.document, ensure_ascii=False)
            params.append((*values, max(e["position"] for e in entries),
                           json.dumps(entries, ensure_ascii=False)))
        if not params:
            return
        columns = SQL(", ").join(Identifier(c) for c in self.COLUMNS)
        updates = SQL(", ").join(SQL("{0} = EXCLUDED.{0}").format(Identifier(c))
                                 for c in self.COLUMNS[1:])
        placeholders = SQL(", ").join(SQL("%s") for _ in range(len(self.COLUMNS) + 2))
        curs.executemany(SQL(
            "INSERT INTO {t} ({columns}, position, timeline) VALUES ({placeholders}) "
            "ON CONFLICT (organization_id) DO UPDATE SET {updates}, "
            "position = EXCLUDED.position, timeline = {t}.timeline || EXCLUDED.timeline"
        ).format(t=self.rows_table, columns=columns, placeholders=placeholders,
                 updates=updates), params)

    def get(self, identifier: str) -> dict | None:
        # One statement in autocommit: no BEGIN and ROLLBACK round trips.
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT * FROM {t} WHERE identifier = %s").format(
                t=self.rows_table), (identifier,), prepare=True)
            return curs.fetchone()

    def case_file(self, identifier: str) -> dict | None:
        """What the case-file endpoint serves: the document (parsed: the reading day adds
        the certificate's state), and the timeline as JSON text, served as it is stored
        (parsing it only to serialize it again cost about a tenth of a read)."""
        query = getattr(self, "_case_file_query", None)
        if query is None:
            query = self._case_file_query = SQL(
                "SELECT identifier, jurisdiction, version, position, risk_flags, document, "
                "timeline::text AS timeline_json FROM {t} WHERE identifier = %s"
            ).format(t=self.rows_table)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, (identifier,), prepare=True)
            return curs.fetchone()

    def search(self, *, text: str | None = None, jurisdiction: str | None = None,
               status: str | None = None, org_type: str | None = None,
               risk_flag: str | None = None, credit_list: str | None = None,
               limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
        where, params = [SQL("TRUE")], []
        if text:
            where.append(SQL("(name ILIKE %s OR identifier ILIKE %s)"))
            like = "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
            params += [like, like]
        if jurisdiction:
            where.append(SQL("jurisdiction LIKE %s"))
            params.append(jurisdiction + "%")
        for column, value in (("status", status), ("org_type", org_type)):
            if value:
                where.append(SQL("{0} = %s").format(Identifier(column)))
                params.append(value)
        if risk_flag:
            where.append(SQL("%s = ANY(risk_flags)"))
            params.append(risk_flag)
        if credit_list:
            where.append(SQL("%s = ANY(credit_lists)"))
            params.append(credit_list)
        condition = SQL(" AND ").join(where)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT count(*) AS n FROM {t} WHERE {c}").format(
                t=self.rows_table, c=condition), params)
            total = curs.fetchone()["n"]
            curs.execute(SQL(
                "SELECT identifier, code, name, org_type, status, jurisdiction, "
                "certificate_valid_until, credit_lists, latest_conclusion, "
                "latest_conclusion_year, rating, risk_flags, version FROM {t} WHERE {c} "
                "ORDER BY position DESC LIMIT %s OFFSET %s").format(
                    t=self.rows_table, c=condition), [*params, limit, offset])
            return total, curs.fetchall()

    def open_identifiers(self) -> list[str]:
        """Every organization that is not closed (for the daily clock)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT identifier FROM {t} WHERE status NOT IN "
                             "('deregistered', 'revoked', 'banned') ORDER BY identifier")
                         .format(t=self.rows_table))
            return [row["identifier"] for row in curs.fetchall()]

    def checksum(self, up_to: int | None = None) -> tuple[int, str]:
        return self._digest(SQL(
            "SELECT count(*) AS n, md5(string_agg(identifier || ':' || version || ':' || "
            "document::text || ':' || timeline::text, '|' ORDER BY identifier)) AS digest "
            "FROM {t} WHERE position <= %s").format(t=self.rows_table),
            (up_to if up_to is not None else 2 ** 62,))


class PostgresAuditView(PostgresStatefulView, AuditView):
    FIELDS = ("position", "aggregate_id", "identifier", "event_type", "actor_id",
              "actor_role", "recorded_at", "effective_date", "reason", "reference", "changes",
              "late", "canonical", "previous_hash", "hash")

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.entries_table = self.table("entries")
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {t} (position bigint PRIMARY KEY, "
            "aggregate_id uuid NOT NULL, identifier text, event_type text NOT NULL, "
            "actor_id text, actor_role text, recorded_at timestamptz NOT NULL, "
            "effective_date date, reason text, reference text, changes jsonb NOT NULL, "
            "late boolean NOT NULL, canonical text NOT NULL, previous_hash text NOT NULL, "
            "hash text NOT NULL)").format(t=self.entries_table))
        self.sql_create_statements.append(SQL(
            "CREATE INDEX IF NOT EXISTS {i} ON {t} (identifier, position)").format(
                i=Identifier(f"{self.prefix}_identifier_idx"), t=self.entries_table))

    def head(self) -> tuple[int, str]:
        with self.datastore.transaction(commit=False) as curs:
            return self._head(curs)

    def _head(self, curs: Any) -> tuple[int, str]:
        curs.execute(SQL("SELECT position, hash FROM {t} ORDER BY position DESC LIMIT 1")
                     .format(t=self.entries_table))
        row = curs.fetchone()
        return (row["position"], row["hash"]) if row else (0, GENESIS)

    def _store_rows(self, curs: Any, states: Sequence[Organization], rows: list[Any]) -> None:
        if not rows:
            return
        _, previous = self._head(curs)
        link(rows, previous)
        changes = self.FIELDS.index("changes")
        # COPY, not an INSERT per entry: a rebuild writes 500 entries a page, and the
        # per-statement cost was most of the audit view's time (bench d). The columns
        # take the same text through the same input functions either way.
        with curs.copy(SQL("COPY {t} ({f}) FROM STDIN").format(
                t=self.entries_table,
                f=SQL(", ").join(Identifier(f) for f in self.FIELDS))) as copy:
            for entry in rows:
                assert isinstance(entry, AuditEntry)
                values = [getattr(entry, f) for f in self.FIELDS]
                values[changes] = json.dumps(entry.changes, ensure_ascii=False)
                copy.write_row(values)

    def entries(self, *, identifier: str | None = None, after: int = 0,
                up_to: int | None = None, limit: int | None = None) -> list[dict]:
        condition = SQL("position > %s AND position <= %s")
        params: list[Any] = [after, up_to if up_to is not None else 2 ** 62]
        if identifier is not None:
            condition = SQL("identifier = %s AND position > %s AND position <= %s")
            params = [identifier, *params]
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT * FROM {t} WHERE {c} ORDER BY position LIMIT %s").format(
                t=self.entries_table, c=condition), [*params, limit])
            return curs.fetchall()

    def all_entries(self, up_to: int, page: int = 2000):
        """Every entry up to a position, read page by page."""
        after = 0
        while True:
            rows = self.entries(after=after, up_to=up_to, limit=page)
            yield from rows
            if len(rows) < page:
                return
            after = rows[-1]["position"]

    def checksum(self, up_to: int | None = None) -> tuple[int, str]:
        return self._digest(SQL(
            "SELECT count(*) AS n, md5(string_agg(hash, '' ORDER BY position)) AS digest "
            "FROM {t} WHERE position <= %s").format(t=self.entries_table),
            (up_to if up_to is not None else 2 ** 62,))


class PostgresStatisticsView(PostgresStatefulView, StatisticsView):
    positional_checksum = False  # sums cannot be cut at a position
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        self.counts_table = self.table("counts")
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {t} (jurisdiction text NOT NULL, year int NOT NULL, "
            "kind text NOT NULL, count bigint NOT NULL, "
            "PRIMARY KEY (jurisdiction, year, kind))").format(t=self.counts_table))

    def _store_rows(self, curs: Any, states: Sequence[Organization], rows: list[Any]) -> None:
        merged: dict[tuple[str, int, str], int] = {}
        for count in rows:
            assert isinstance(count, Count)
            key = (count.jurisdiction, count.year, count.kind)
            merged[key] = merged.get(key, 0) + count.delta
        if merged:
            curs.executemany(SQL(
                "INSERT INTO {t} (jurisdiction, year, kind, count) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (jurisdiction, year, kind) DO UPDATE "
                "SET count = {t}.count + EXCLUDED.count").format(t=self.counts_table),
                [(*key, delta) for key, delta in sorted(merged.items())])

    def totals(self, *, jurisdiction_prefix: str, year: int | None = None
               ) -> dict[int, dict[str, int]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL(
                "SELECT year, kind, sum(count)::bigint AS n FROM {t} "
                "WHERE jurisdiction LIKE %s AND (%s::int IS NULL OR year = %s::int) "
                "GROUP BY year, kind ORDER BY year, kind").format(t=self.counts_table),
                (jurisdiction_prefix + "%", year, year))
            result: dict[int, dict[str, int]] = {}
            for row in curs.fetchall():
                if row["n"]:
                    result.setdefault(row["year"], {})[row["kind"]] = row["n"]
            return result

    def checksum(self, up_to: int | None = None) -> tuple[int, str]:
        return self._digest(SQL(
            "SELECT count(*) AS n, md5(string_agg(jurisdiction || ':' || year || ':' || kind "
            "|| ':' || count, '|' ORDER BY jurisdiction, year, kind)) AS digest FROM {t} "
            "WHERE count <> 0").format(t=self.counts_table))


class PostgresNetworkView(PostgresStatefulView, NetworkView):
    """Warnings, proposals and nodes; figures counted per committee with the live
    case-file rows (``casefiles_rows``) of the same schema."""

    positional_checksum = False
    TABLES = {
        "warnings": ("warning_id", "warning_id uuid PRIMARY KEY, organization text NOT NULL, "
                     "jurisdiction text NOT NULL, node text NOT NULL, level text NOT NULL, "
                     "severity text NOT NULL, source text NOT NULL, title text NOT NULL, "
                     "rule text, status text NOT NULL, raised_on date NOT NULL, "
                     "level_since date NOT NULL, resolved_on date, version bigint NOT NULL, "
                     "position bigint NOT NULL"),
        "proposals": ("proposal_id", "proposal_id uuid PRIMARY KEY, kind text NOT NULL, "
                      "organization text NOT NULL, jurisdiction text NOT NULL, "
                      "credit_list text, listing_id text, year int, reason text NOT NULL, "
                      "rule text NOT NULL, status text NOT NULL, proposed_on date NOT NULL, "
                      "decided_on date, decided_by text, version bigint NOT NULL, "
                      "position bigint NOT NULL"),
        "nodes": ("node_id", "node_id uuid PRIMARY KEY, code text NOT NULL UNIQUE, "
                  "name text NOT NULL, level text NOT NULL, parent text, "
                  "officers text[] NOT NULL DEFAULT '{{}}'"),
    }

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        for suffix, (_, columns) in self.TABLES.items():
            self.sql_create_statements.append(SQL("CREATE TABLE IF NOT EXISTS {t} ("
                                                  + columns + ")").format(t=self.table(suffix)))
        self.sql_create_statements.append(SQL(
            "CREATE INDEX IF NOT EXISTS {i} ON {t} (jurisdiction text_pattern_ops)").format(
                i=Identifier(f"{self.prefix}_warnings_jurisdiction_idx"),
                t=self.table("warnings")))
        self.casefiles = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                               Identifier("casefiles_rows"))
        self.leaves = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                            Identifier("casefiles_leaves"))

    def _store_rows(self, curs: Any, states: Sequence[Organization], rows: list[Any]) -> None:
        for row in rows:
            if row.table == "officers":
                op = "array_append(array_remove(officers, %s), %s)" if row.values["assigned"] \
                    else "array_remove(officers, %s)"
                params = [row.values["username"]] * (2 if row.values["assigned"] else 1)
                curs.execute(SQL("UPDATE {t} SET officers = " + op + " WHERE node_id = %s")
                             .format(t=self.table("nodes")), [*params, row.key])
                continue
            key_column = self.TABLES[row.table][0]
            if row.insert:
                columns = list(row.values)
                curs.execute(SQL("INSERT INTO {t} ({c}) VALUES ({p})").format(
                    t=self.table(row.table), c=SQL(", ").join(map(Identifier, columns)),
                    p=SQL(", ").join(SQL("%s") for _ in columns)),
                    [row.values[c] for c in columns])
            else:
                sets = SQL(", ").join(SQL("{0} = %s").format(Identifier(c)) for c in row.values)
                curs.execute(SQL("UPDATE {t} SET {s} WHERE {k} = %s").format(
                    t=self.table(row.table), s=sets, k=Identifier(key_column)),
                    [*row.values.values(), row.key])

    ACTIVE = "status IN ('active', 'suspended')"
    RISKS = "ARRAY['open_rectification', 'overdue_rectification', 'high_risk_major_event']"
    CASE_FILE_FIGURES = (
        "SELECT jurisdiction AS leaf, coalesce(sum(count) FILTER (WHERE " + ACTIVE + "), "
        "0)::bigint AS organizations FROM {leaves} WHERE jurisdiction LIKE %(like)s AND count > 0 "
        "GROUP BY jurisdiction",
        "SELECT jurisdiction AS leaf, count(*) FILTER (WHERE certificate_valid_until >= "
        "%(today)s) AS certificates_expiring, count(*) FILTER (WHERE "
        "certificate_valid_until < %(today)s) AS certificates_expired FROM {c} "
        "WHERE " + ACTIVE + " AND certificate_valid_until <= %(today)s + 90 "
        "AND jurisdiction LIKE %(like)s GROUP BY jurisdiction",
        "SELECT jurisdiction AS leaf, "
        "count(*) FILTER (WHERE 'open_rectification' = ANY(risk_flags)) "
        "  AS rectifications_open, "
        "count(*) FILTER (WHERE 'overdue_rectification' = ANY(risk_flags)) "
        "  AS rectifications_overdue, "
        "count(*) FILTER (WHERE 'high_risk_major_event' = ANY(risk_flags)) "
        "  AS high_risk_major_events "
        "FROM {c} WHERE risk_flags && " + RISKS + " AND jurisdiction LIKE %(like)s "
        "GROUP BY jurisdiction",
        "SELECT jurisdiction AS leaf, count(*) AS credit_listed FROM {c} "
        "WHERE cardinality(credit_lists) > 0 AND jurisdiction LIKE %(like)s "
        "GROUP BY jurisdiction",
    )

    def leaf_figures(self, prefix: str, today: date) -> dict[str, dict[str, int]]:
        leaves: dict[str, dict[str, int]] = {}
        like = prefix + "%"
        with self.datastore.transaction(commit=False) as curs:
            # The case files' figures in four narrow queries, each reading only the few
            # rows it counts (the organizations from the per-committee counts, the rest
            # through partial and covering indexes), rather than one pass evaluating every
            # filter on every row of the district (bench f).
            for query in self.CASE_FILE_FIGURES:
                curs.execute(SQL(query).format(c=self.casefiles, leaves=self.leaves),
                             {"today": today, "like": like})
                for row in curs.fetchall():
                    leaves.setdefault(row.pop("leaf"), {}).update(row)
            curs.execute(SQL(
                "SELECT jurisdiction AS leaf, "
                "count(*) FILTER (WHERE status <> 'resolved') AS warnings_active, "
                "count(*) FILTER (WHERE status <> 'resolved' AND severity = 'low') "
                "  AS warnings_low, "
                "count(*) FILTER (WHERE status <> 'resolved' AND severity = 'medium') "
                "  AS warnings_medium, "
                "count(*) FILTER (WHERE status <> 'resolved' AND severity = 'high') "
                "  AS warnings_high, "
                "count(*) FILTER (WHERE status <> 'resolved' AND %(today)s - raised_on <= 3) "
                "  AS warnings_age_0_3, "
                "count(*) FILTER (WHERE status <> 'resolved' AND %(today)s - raised_on "
                "  BETWEEN 4 AND 7) AS warnings_age_4_7, "
                "count(*) FILTER (WHERE status <> 'resolved' AND %(today)s - raised_on "
                "  BETWEEN 8 AND 30) AS warnings_age_8_30, "
                "count(*) FILTER (WHERE status <> 'resolved' AND %(today)s - raised_on > 30) "
                "  AS warnings_age_over_30, "
                "count(DISTINCT organization) FILTER (WHERE status <> 'resolved' AND "
                "  rule LIKE 'rule:zombie_candidate@%%') AS zombie_candidates "
                "FROM {w} WHERE jurisdiction LIKE %(like)s GROUP BY jurisdiction").format(
                    w=self.table("warnings")), {"today": today, "like": like})
            for row in curs.fetchall():
                leaves.setdefault(row.pop("leaf"), {}).update(row)
            curs.execute(SQL(
                "SELECT jurisdiction AS leaf, count(*) AS proposals_open FROM {p} "
                "WHERE jurisdiction LIKE %(like)s AND status = 'proposed' "
                "GROUP BY jurisdiction").format(p=self.table("proposals")), {"like": like})
            for row in curs.fetchall():
                leaves.setdefault(row.pop("leaf"), {}).update(row)
        return leaves

    def monthly_trends(self, prefix: str, since: date) -> dict[str, dict[str, int]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL(
                "SELECT jurisdiction AS leaf, to_char(raised_on, 'YYYY-MM') AS month, "
                "count(*) AS n FROM {w} WHERE jurisdiction LIKE %s AND raised_on >= %s "
                "GROUP BY 1, 2").format(w=self.table("warnings")), (prefix + "%", since))
            trends: dict[str, dict[str, int]] = {}
            for row in curs.fetchall():
                trends.setdefault(row["leaf"], {})[row["month"]] = row["n"]
            return trends

    FLAG_CONDITIONS = {
        "certificate_expiring": "c.status IN ('active', 'suspended') AND "
                                "c.certificate_valid_until BETWEEN %(today)s AND %(today)s + 90",
        "certificate_expired": "c.status IN ('active', 'suspended') AND "
                               "c.certificate_valid_until < %(today)s",
        "overdue_rectification": "'overdue_rectification' = ANY(c.risk_flags)",
        "open_rectification": "'open_rectification' = ANY(c.risk_flags)",
        "credit_listed": "cardinality(c.credit_lists) > 0",
        "high_risk_major_event": "'high_risk_major_event' = ANY(c.risk_flags)",
        "warning": "EXISTS (SELECT 1 FROM {w} w WHERE w.organization = c.identifier "
                   "AND w.status <> 'resolved')",
        "warning_high": "EXISTS (SELECT 1 FROM {w} w WHERE w.organization = c.identifier "
                        "AND w.status <> 'resolved' AND w.severity = 'high')",
        "zombie_candidate": "EXISTS (SELECT 1 FROM {w} w WHERE w.organization = c.identifier "
                            "AND w.status <> 'resolved' AND w.rule LIKE "
                            "'rule:zombie_candidate@%%')",
    }

    def organizations(self, prefix: str, flag: str, today: date, limit: int,
                      offset: int) -> tuple[int, list[dict]]:
        condition = SQL(self.FLAG_CONDITIONS[flag]).format(w=self.table("warnings"))
        params = {"today": today, "like": prefix + "%", "limit": limit, "offset": offset}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT count(*) AS n FROM {c} c WHERE c.jurisdiction LIKE "
                             "%(like)s AND {cond}").format(c=self.casefiles, cond=condition),
                         params)
            total = curs.fetchone()["n"]
            curs.execute(SQL(
                "SELECT c.identifier, c.name, c.status, c.jurisdiction, "
                "c.certificate_valid_until, c.credit_lists, c.risk_flags FROM {c} c "
                "WHERE c.jurisdiction LIKE %(like)s AND {cond} ORDER BY c.identifier "
                "LIMIT %(limit)s OFFSET %(offset)s").format(c=self.casefiles, cond=condition),
                params)
            return total, curs.fetchall()

    def _page(self, table: str, where: list, params: list, order: str, limit: int,
              offset: int) -> tuple[int, list[dict]]:
        condition = SQL(" AND ").join([SQL("TRUE"), *where])
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT count(*) AS n FROM {t} WHERE {c}").format(
                t=self.table(table), c=condition), params)
            total = curs.fetchone()["n"]
            curs.execute(SQL("SELECT * FROM {t} WHERE {c} ORDER BY " + order +
                             " LIMIT %s OFFSET %s").format(t=self.table(table), c=condition),
                         [*params, limit, offset])
            return total, curs.fetchall()

    def warnings(self, *, prefix: str | None, status: str | None, severity: str | None,
                 node: str | None, limit: int, offset: int) -> tuple[int, list[dict]]:
        where, params = [], []
        for column, value, op in (("jurisdiction", prefix and prefix + "%", "LIKE"),
                                  ("status", status, "="), ("severity", severity, "="),
                                  ("node", node, "=")):
            if value:
                where.append(SQL("{0} " + op + " %s").format(Identifier(column)))
                params.append(value)
        return self._page("warnings", where, params, "raised_on DESC, position DESC", limit,
                          offset)

    def proposals(self, *, prefix: str | None, status: str | None, limit: int,
                  offset: int) -> tuple[int, list[dict]]:
        where, params = [], []
        if prefix:
            where.append(SQL("jurisdiction LIKE %s"))
            params.append(prefix + "%")
        if status:
            where.append(SQL("status = %s"))
            params.append(status)
        return self._page("proposals", where, params, "proposed_on DESC, position DESC",
                          limit, offset)

    def nodes(self, prefix: str) -> list[dict]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT code, name, level, parent, officers FROM {t} "
                             "WHERE code LIKE %s ORDER BY code").format(t=self.table("nodes")),
                         (prefix + "%",))
            return curs.fetchall()

    def open_warning_ids(self) -> list:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT warning_id FROM {t} WHERE status = 'open' AND "
                             "level <> 'district' ORDER BY position").format(
                                 t=self.table("warnings")))
            return [row["warning_id"] for row in curs.fetchall()]

    def checksum(self, up_to: int | None = None) -> tuple[int, str]:
        return self._digest(SQL(
            "SELECT count(*) AS n, md5(string_agg(t, '|' ORDER BY t)) AS digest FROM ("
            "SELECT w::text AS t FROM {w} w UNION ALL SELECT p::text FROM {p} p "
            "UNION ALL SELECT n::text FROM {n} n) x").format(
                w=self.table("warnings"), p=self.table("proposals"), n=self.table("nodes")))
