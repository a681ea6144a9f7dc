"""The open-data extract's tables (issue 16 item 5): which files it holds, their columns
with the data dictionary (type and meaning in Chinese and English, and for a code column
the kind of code, whose values the dictionary page lists), and an organization's rows in
each, taken from its public document (``projections.documents.public_document``), so the
extract shows exactly what the public disclosure shows and nothing about persons.

The published inspection results come from the plans whose results are published
(``plan_rows``). Every table holds ``identifier``: the unified social credit code, or for
a community organization recorded without one, its record number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from domain.texts import N_


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text, integer, date (YYYY-MM-DD), boolean (true or false)
    meaning: str  # an English message id; the catalog has its Chinese
    codes: str | None = None  # the label kind of a code column (adapters.web.labels)


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


# an entry that the organization's pending objection (异议) contests (issue 16 item 2)
DISPUTED = Column("disputed", "boolean", N_(
    "Disputed: the organization's objection against this entry is pending"))

IDENTIFIER = Column("identifier", "text", N_(
    "The organization's unified social credit code, or the record number of a community "
    "organization recorded without one"))

TABLES: tuple[Table, ...] = (
    Table("organizations", N_("Organizations"), (
        IDENTIFIER,
        Column("code", "text", N_("Unified social credit code (empty if it has none)")),
        Column("name", "text", N_("Name")),
        Column("type", "text", N_("Type of organization"), "org_type"),
        Column("status", "text", N_("Registration status"), "status"),
        Column("registered_on", "date", N_("Date of registration or record")),
        Column("domicile", "text", N_("Domicile (address)")),
        Column("jurisdiction", "text", N_(
            "Code of the residents' committee of the domicile (the early-warning network)")),
        Column("supervisory_unit", "text", N_(
            "Supervisory unit (empty if directly registered)")),
        Column("business_scope", "text", N_("Business scope")),
        Column("certificate_valid_until", "date", N_("Registration certificate valid until")),
    )),
    Table("annual_conclusions", N_("Annual-inspection conclusions"), (
        IDENTIFIER,
        Column("year", "integer", N_("Year inspected")),
        Column("result", "text", N_("Conclusion"), "conclusion"),
        DISPUTED,
    )),
    Table("credit_listings", N_("Credit listings"), (
        IDENTIFIER,
        Column("list", "text", N_("Credit list"), "credit_list"),
        Column("listed_on", "date", N_("Date listed")),
        Column("removed_on", "date", N_("Date removed (empty while listed)")),
        DISPUTED,
    )),
    Table("penalties", N_("Administrative penalties"), (
        IDENTIFIER,
        Column("decision_number", "text", N_("Decision number")),
        Column("kind", "text", N_("Kind of penalty"), "penalty_kind"),
        Column("decision_date", "date", N_("Date of the decision")),
        Column("rescinded", "boolean", N_("Rescinded")),
        DISPUTED,
    )),
    Table("published_inspections", N_("Published inspection results"), (
        Column("plan", "text", N_("Number of the double-random inspection plan")),
        Column("plan_jurisdiction", "text", N_("Code of the jurisdiction the plan covers")),
        Column("published_on", "date", N_("Date the plan's results were published")),
        IDENTIFIER,
        Column("inspected_on", "date", N_("Date of the inspection under the plan")),
        Column("on_site", "boolean", N_("Inspected on site")),
        Column("outcome", "text", N_("Outcome"), "outcome"),
    )),
)
BY_NAME = {t.name: t for t in TABLES}


def plan_rows(plan: dict) -> Iterator[tuple[str, list[Any]]]:
    """(table name, row) for each drawn organization of a published plan (its ``number``,
    ``jurisdiction``, ``published_on`` and ``results``), as the public page shows it."""
    for r in sorted(plan["results"] or (), key=lambda r: r["identifier"]):
        yield "published_inspections", [plan["number"], plan["jurisdiction"],
                                         plan["published_on"], r["identifier"],
                                         r["inspected_on"], r["on_site"], r["outcome"]]


def rows_of(public: dict, jurisdiction: str) -> Iterator[tuple[str, list[Any]]]:
    """(table name, row) for each of an organization's rows, from its public document."""
    key = public["identifier"]
    yield "organizations", [key, public["code"] or "", public["name"], public["type"],
                            public["status"], public["registered_on"], public["domicile"],
                            jurisdiction, public["supervisory_unit"] or "",
                            public["business_scope"] or "",
                            public["certificate_valid_until"]]
    for c in public["conclusions"]:
        yield "annual_conclusions", [key, c["year"], c["result"], c["disputed"]]
    for c in public["credit_listings"]:
        yield "credit_listings", [key, c["list"], c["listed_on"], c["removed_on"],
                                  c["disputed"]]
    for p in public["penalties"]:
        yield "penalties", [key, p["decision_number"], p["kind"], p["decision_date"],
                            p["rescinded"], p["disputed"]]
