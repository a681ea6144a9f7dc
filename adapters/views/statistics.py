"""The statistics in PostgreSQL: counts per jurisdiction, year and kind."""

from __future__ import annotations

from typing import Any, Sequence

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL

from adapters.views.base import PostgresStatefulView
from domain.organization import Organization
from projections.statistics import Count, StatisticsView


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

    def totals_by_child(self, *, jurisdiction_prefix: str, child_digits: int,
                        year: int | None = None) -> dict[str, dict[str, int]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL(
                "SELECT rpad(left(jurisdiction, %s), 12, '0') AS child, kind, "
                "sum(count)::bigint AS n FROM {t} "
                "WHERE jurisdiction LIKE %s AND (%s::int IS NULL OR year = %s::int) "
                "GROUP BY 1, 2 ORDER BY 1, 2").format(t=self.counts_table),
                (child_digits, jurisdiction_prefix + "%", year, year))
            result: dict[str, dict[str, int]] = {}
            for row in curs.fetchall():
                if row["n"]:
                    result.setdefault(row["child"], {})[row["kind"]] = row["n"]
            return result

    def checksum(self, up_to: int | None = None) -> tuple[int, str]:
        return self._digest(SQL(
            "SELECT count(*) AS n, md5(string_agg(jurisdiction || ':' || year || ':' || kind "
            "|| ':' || count, '|' ORDER BY jurisdiction, year, kind)) AS digest FROM {t} "
            "WHERE count <> 0").format(t=self.counts_table))
