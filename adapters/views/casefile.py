"""The case files in PostgreSQL: one row per organization (the columns the lists filter
on, the document, the timeline), and the organizations per committee and status that the
network view counts."""

from __future__ import annotations

import json
from typing import Any, Sequence
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier, Literal

from adapters.views.base import PostgresStatefulView
from domain.organization import Organization
from projections.casefile import CaseFileView, TimelineEntry, case_file_row


# The organizations a supervisory unit supervises (domain.access.supervises): their
# document names it as their supervisory unit.
# An account naming no unit sees none (never the organizations that record none).
SUPERVISED = SQL("(btrim(%s) <> '' AND btrim(document->>'supervisory_unit') = btrim(%s))")


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
            if not isinstance(org, Organization):  # a rule the projection follows: kept only
                continue
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
               limit: int = 50, offset: int = 0,
               supervisory_unit: str | None = None) -> tuple[int, list[dict]]:
        where, params = [SQL("TRUE")], []
        if supervisory_unit is not None:
            where.append(SUPERVISED)
            params += [supervisory_unit, supervisory_unit]
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

    # What waits on the case files (the work queue's): the annual reports filed and not
    # concluded, the major-event reports not reviewed (sent to the recipient given), the
    # rectifications not completed, the objections and credit repair applications not
    # decided (each application with the list of its listing), the online annual reports
    # submitted for pre-review, and those drafted or returned, of the organizations not
    # closed (or of one of them).
    COLUMNS_WAITING = ("identifier, code, name, jurisdiction, "
                       "document->>'supervisory_unit' AS supervisory_unit")
    REVIEWS = "jsonb_array_elements(COALESCE(document->'annual_report_reviews', '[]'::jsonb))"
    WAITING = (
        "SELECT 'annual_report' AS kind, {c}, r AS item "
        "FROM {t}, jsonb_array_elements(document->'annual_reports') r WHERE {w} AND NOT "
        "EXISTS (SELECT 1 FROM jsonb_array_elements(document->'annual_inspections') i "
        "WHERE i->'year' = r->'year') "
        "UNION ALL SELECT 'major_event' AS kind, {c}, e AS item "
        "FROM {t}, jsonb_array_elements(document->'major_events') e WHERE {w} AND "
        "jsonb_typeof(e->'review') IS DISTINCT FROM 'object' AND e->'sent_to' ? %(to)s "
        "UNION ALL SELECT 'rectification' AS kind, {c}, x AS item "
        "FROM {t}, jsonb_array_elements(document->'rectifications') x WHERE {w} AND "
        "x->>'status' <> 'completed' "
        "UNION ALL SELECT 'objection' AS kind, {c}, o AS item "
        "FROM {t}, jsonb_array_elements(COALESCE(document->'objections', '[]')) o WHERE {w} "
        "AND o->>'status' = 'pending' "
        "UNION ALL SELECT 'credit_repair' AS kind, {c}, a || jsonb_build_object('list', "
        "(SELECT l->>'list' FROM jsonb_array_elements(document->'credit_listings') l "
        "WHERE l->>'id' = a->>'listing_id')) AS item "
        "FROM {t}, jsonb_array_elements(COALESCE(document->'repair_applications', "
        "'[]')) a WHERE {w} AND a->>'status' = 'pending' "
        "UNION ALL SELECT 'annual_report_review' AS kind, {c}, v AS item "
        f"FROM {{t}}, {REVIEWS} v WHERE {{w}} AND v->>'stage' = 'submitted' "
        "UNION ALL SELECT 'annual_report_draft' AS kind, {c}, v AS item "
        f"FROM {{t}}, {REVIEWS} v WHERE {{w}} AND v->>'stage' IN ('draft', 'returned')")

    def waiting(self, *, prefix: str | None, kinds: Sequence[str],
                major_events_sent_to: str, supervisory_unit: str | None = None,
                organization: str | None = None) -> list[dict]:
        where = [SQL("status IN ('active', 'suspended')")]
        if organization is not None:
            where.append(SQL("identifier = %(organization)s"))
        if prefix:
            where.append(SQL("jurisdiction LIKE %(like)s"))
        if supervisory_unit is not None:
            where.append(SQL("(btrim(%(unit)s) <> '' AND btrim(document->>'supervisory_unit') "
                             "= btrim(%(unit)s))"))
        parts = [part for part in self.WAITING.split(" UNION ALL ")
                 if part.split("'")[1] in kinds]
        if not parts:
            return []
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL(" UNION ALL ".join(parts)).format(
                t=self.rows_table, w=SQL(" AND ").join(where),
                c=SQL(self.COLUMNS_WAITING)),
                {"like": (prefix or "") + "%", "unit": supervisory_unit,
                 "to": major_events_sent_to, "organization": organization})
            return curs.fetchall()

    def names(self, identifiers: Sequence[str]) -> dict[str, dict]:
        """{identifier: {identifier, code, name}} of these organizations."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT identifier, code, name FROM {t} WHERE identifier = "
                             "ANY(%s)").format(t=self.rows_table), (list(identifiers),))
            return {row["identifier"]: row for row in curs.fetchall()}

    def summaries(self, identifiers: list[str]) -> dict[str, dict]:
        """Name, status, jurisdiction and inspections of these organizations (one query:
        an inspection plan's drawn organizations), by identifier."""
        if not identifiers:
            return {}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT identifier, name, status, jurisdiction, "
                             "document->'inspections' AS inspections FROM {t} "
                             "WHERE identifier = ANY(%s)").format(t=self.rows_table),
                         (list(identifiers),))
            return {row["identifier"]: row for row in curs.fetchall()}

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
