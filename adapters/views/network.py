"""The supervision network in PostgreSQL: warnings, proposals, nodes and inspection plans,
and the figures
per committee counted with the live case-file rows of the same schema."""

from __future__ import annotations

from datetime import date
from typing import Any, Sequence

from eventsourcing.postgres import PostgresDatastore
from psycopg.types.json import Jsonb
from psycopg.sql import SQL, Composable, Identifier, Literal

from adapters.views.base import PostgresStatefulView
from adapters.views.casefile import SUPERVISED
from domain.codes import jurisdiction_prefix
from domain.organization import Organization
from domain.rules import Rule
from projections.network import NetworkView


def expiring(certificate_expiry: Rule, table: str | None = None) -> Composable:
    """A certificate ends within the rule's ``expiring_days`` of %(today)s, by each row's
    jurisdiction: the default, or the jurisdictions' overrides (the most specific first),
    with the largest as an indexable bound."""
    until, jurisdiction = (Identifier(*filter(None, (table, name)))
                           for name in ("certificate_valid_until", "jurisdiction"))
    default, overrides = certificate_expiry.by_jurisdiction("expiring_days")
    if not overrides:
        return SQL("{0} <= %(today)s + {1}").format(until, Literal(int(default)))
    cases = SQL(" ").join(
        SQL("WHEN left({0}, {1}) = {2} THEN {3}").format(
            jurisdiction, Literal(len(jurisdiction_prefix(node))),
            Literal(jurisdiction_prefix(node)), Literal(int(days)))
        for node, days in overrides)
    most = max(int(default), *(int(days) for _, days in overrides))
    return SQL("({0} <= %(today)s + {1} AND {0} <= %(today)s + CASE {2} ELSE {3} END)").format(
        until, Literal(most), cases, Literal(int(default)))


def _adapted(value: Any) -> Any:
    """A row's value for its column: a list or dict (a plan's published results) as JSON."""
    return Jsonb(value) if isinstance(value, (list, dict)) else value


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
        "plans": ("plan_id", "plan_id uuid PRIMARY KEY, number text NOT NULL UNIQUE, "
                  "jurisdiction text NOT NULL, authority_level text NOT NULL, "
                  "population int NOT NULL, high_risk int NOT NULL, drawn int NOT NULL, "
                  "on_site int NOT NULL, inspectors int NOT NULL, rule_version int NOT NULL, "
                  "planned_on date NOT NULL, planned_by text NOT NULL, published_on date, "
                  "results jsonb, position bigint NOT NULL"),
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
        self.sql_create_statements.append(SQL(  # a case file's warnings
            "CREATE INDEX IF NOT EXISTS {i} ON {t} (organization, raised_on)").format(
                i=Identifier(f"{self.prefix}_warnings_organization_idx"),
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
                    [_adapted(row.values[c]) for c in columns])
            else:
                sets = SQL(", ").join(SQL("{0} = %s").format(Identifier(c)) for c in row.values)
                curs.execute(SQL("UPDATE {t} SET {s} WHERE {k} = %s").format(
                    t=self.table(row.table), s=sets, k=Identifier(key_column)),
                    [*map(_adapted, row.values.values()), row.key])

    ACTIVE = "status IN ('active', 'suspended')"
    RISKS = "ARRAY['open_rectification', 'overdue_rectification', 'high_risk_major_event']"
    CASE_FILE_FIGURES = (
        "SELECT jurisdiction AS leaf, coalesce(sum(count) FILTER (WHERE " + ACTIVE + "), "
        "0)::bigint AS organizations FROM {leaves} WHERE jurisdiction LIKE %(like)s AND count > 0 "
        "GROUP BY jurisdiction",
        "SELECT jurisdiction AS leaf, count(*) FILTER (WHERE certificate_valid_until >= "
        "%(today)s) AS certificates_expiring, count(*) FILTER (WHERE "
        "certificate_valid_until < %(today)s) AS certificates_expired FROM {c} "
        "WHERE " + ACTIVE + " AND {expiring} "
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

    # A supervisory unit's figures: the organizations it supervises, counted from their
    # rows (the per-committee counts do not know the unit).
    SUPERVISED_ORGANIZATIONS = (
        "SELECT jurisdiction AS leaf, count(*) FILTER (WHERE " + ACTIVE + ")::bigint AS "
        "organizations FROM {c} WHERE jurisdiction LIKE %(like)s GROUP BY jurisdiction")

    def _unit_bound(self, query: str, unit: str | None, column: str) -> Composable:
        """The query with its ``jurisdiction LIKE`` bound narrowed, for a supervisory
        unit, to the organizations it supervises (``column``: the row's own document,
        or the identifier of a warning's or proposal's organization)."""
        if unit is None:
            return SQL(query)
        bound = ("btrim(%(unit)s) <> '' AND btrim(document->>'supervisory_unit') = "
                 "btrim(%(unit)s)")
        if column == "organization":
            bound = "organization IN (SELECT identifier FROM {c} WHERE " + bound + ")"
        return SQL(query.replace("jurisdiction LIKE %(like)s",
                                 "jurisdiction LIKE %(like)s AND " + bound))

    def leaf_figures(self, prefix: str, today: date, *, certificate_expiry: Rule,
                     supervisory_unit: str | None = None) -> dict[str, dict[str, int]]:
        leaves: dict[str, dict[str, int]] = {}
        like = prefix + "%"
        params = {"today": today, "like": like, "unit": supervisory_unit}
        queries = self.CASE_FILE_FIGURES
        if supervisory_unit is not None:
            queries = (self.SUPERVISED_ORGANIZATIONS, *queries[1:])
        with self.datastore.transaction(commit=False) as curs:
            # The case files' figures in four narrow queries, each reading only the few
            # rows it counts (the organizations from the per-committee counts, the rest
            # through partial and covering indexes), rather than one pass evaluating every
            # filter on every row of the district (bench f).
            for query in queries:
                curs.execute(self._unit_bound(query, supervisory_unit, "document").format(
                    c=self.casefiles, leaves=self.leaves,
                    expiring=expiring(certificate_expiry)), params)
                for row in curs.fetchall():
                    leaves.setdefault(row.pop("leaf"), {}).update(row)
            curs.execute(self._unit_bound(
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
                "FROM {w} WHERE jurisdiction LIKE %(like)s GROUP BY jurisdiction",
                supervisory_unit, "organization").format(
                    w=self.table("warnings"), c=self.casefiles), params)
            for row in curs.fetchall():
                leaves.setdefault(row.pop("leaf"), {}).update(row)
            curs.execute(self._unit_bound(
                "SELECT jurisdiction AS leaf, count(*) AS proposals_open FROM {p} "
                "WHERE jurisdiction LIKE %(like)s AND status = 'proposed' "
                "GROUP BY jurisdiction", supervisory_unit, "organization").format(
                    p=self.table("proposals"), c=self.casefiles), params)
            for row in curs.fetchall():
                leaves.setdefault(row.pop("leaf"), {}).update(row)
        return leaves

    def monthly_trends(self, prefix: str, since: date, *,
                       supervisory_unit: str | None = None) -> dict[str, dict[str, int]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._unit_bound(
                "SELECT jurisdiction AS leaf, to_char(raised_on, 'YYYY-MM') AS month, "
                "count(*) AS n FROM {w} WHERE jurisdiction LIKE %(like)s AND raised_on >= "
                "%(since)s GROUP BY 1, 2", supervisory_unit, "organization").format(
                    w=self.table("warnings"), c=self.casefiles),
                {"like": prefix + "%", "since": since, "unit": supervisory_unit})
            trends: dict[str, dict[str, int]] = {}
            for row in curs.fetchall():
                trends.setdefault(row["leaf"], {})[row["month"]] = row["n"]
            return trends

    FLAG_CONDITIONS = {
        "certificate_expiring": "c.status IN ('active', 'suspended') AND "
                                "c.certificate_valid_until >= %(today)s AND {expiring}",
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

    def organizations(self, prefix: str, flag: str, today: date, limit: int, offset: int,
                      *, certificate_expiry: Rule,
                      supervisory_unit: str | None = None) -> tuple[int, list[dict]]:
        condition = SQL(self.FLAG_CONDITIONS[flag]).format(
            w=self.table("warnings"), expiring=expiring(certificate_expiry, "c"))
        params = {"today": today, "like": prefix + "%", "limit": limit, "offset": offset,
                  "unit": supervisory_unit}
        if supervisory_unit is not None:
            condition = SQL("{0} AND btrim(%(unit)s) <> '' AND "
                            "btrim(c.document->>'supervisory_unit') = btrim(%(unit)s)").format(
                                condition)
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

    def supervised(self, unit: str) -> tuple[Composable, list]:
        """The condition on a warning's or proposal's ``organization``: one the unit
        supervises (by the case-file rows of the same schema)."""
        return (SQL("organization IN (SELECT identifier FROM {c} WHERE {s})").format(
            c=self.casefiles, s=SUPERVISED), [unit, unit])

    def warnings(self, *, prefix: str | None, status: str | None, severity: str | None,
                 node: str | None, limit: int, offset: int,
                 supervisory_unit: str | None = None, organization: str | None = None,
                 raised_until: date | None = None) -> tuple[int, list[dict]]:
        where, params = [], []
        if raised_until is not None:
            where.append(SQL("raised_on <= %s"))
            params.append(raised_until)
        if supervisory_unit is not None:
            condition, values = self.supervised(supervisory_unit)
            where.append(condition)
            params += values
        for column, value, op in (("jurisdiction", prefix and prefix + "%", "LIKE"),
                                  ("status", status, "="), ("severity", severity, "="),
                                  ("node", node, "="), ("organization", organization, "=")):
            if value:
                where.append(SQL("{0} " + op + " %s").format(Identifier(column)))
                params.append(value)
        return self._page("warnings", where, params, "raised_on DESC, position DESC", limit,
                          offset)

    def proposals(self, *, prefix: str | None, status: str | None, limit: int,
                  offset: int, supervisory_unit: str | None = None) -> tuple[int, list[dict]]:
        where, params = [], []
        if supervisory_unit is not None:
            condition, values = self.supervised(supervisory_unit)
            where.append(condition)
            params += values
        if prefix:
            where.append(SQL("jurisdiction LIKE %s"))
            params.append(prefix + "%")
        if status:
            where.append(SQL("status = %s"))
            params.append(status)
        return self._page("proposals", where, params, "proposed_on DESC, position DESC",
                          limit, offset)

    def waiting(self, *, prefix: str | None,
                supervisory_unit: str | None = None) -> tuple[list[dict], list[dict]]:
        """What waits for a decision within the prefix (None: everywhere): the warnings
        not resolved whose node (the level they have reached) is within it, and the
        proposals not decided (the work queue's)."""
        found = []
        for table, condition in (("warnings", "status <> 'resolved'"),
                                 ("proposals", "status = 'proposed'")):
            where, params = [SQL(condition)], []
            if prefix:
                where.append(SQL("jurisdiction LIKE %s"))
                params.append(prefix + "%")
                if table == "warnings":  # escalated above the reader: not its to handle
                    where.append(SQL("node LIKE %s"))
                    params.append(prefix + "%")
            if supervisory_unit is not None:
                supervised, values = self.supervised(supervisory_unit)
                where.append(supervised)
                params += values
            with self.datastore.transaction(commit=False) as curs:
                curs.execute(SQL("SELECT * FROM {t} WHERE {c}").format(
                    t=self.table(table), c=SQL(" AND ").join(where)), params)
                found.append(curs.fetchall())
        return found[0], found[1]

    def nodes(self, prefix: str) -> list[dict]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT code, name, level, parent, officers FROM {t} "
                             "WHERE code LIKE %s ORDER BY code").format(t=self.table("nodes")),
                         (prefix + "%",))
            return curs.fetchall()

    def plans(self, *, prefix: str | None, limit: int, offset: int,
              published: bool = False) -> tuple[int, list[dict]]:
        where, params = [], []
        if prefix:
            where.append(SQL("jurisdiction LIKE %s"))
            params.append(prefix + "%")
        if published:
            where.append(SQL("published_on IS NOT NULL"))
        order = "published_on DESC, position DESC" if published else \
            "planned_on DESC, position DESC"
        return self._page("plans", where, params, order, limit, offset)

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
            "UNION ALL SELECT n::text FROM {n} n UNION ALL SELECT i::text FROM {i} i) x").format(
                w=self.table("warnings"), p=self.table("proposals"), n=self.table("nodes"),
                i=self.table("plans")))
