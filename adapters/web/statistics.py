"""Statistics (DOMAIN.md section 6), the figures the seed reports quote, as tables: the
annual inspections by year with their pass rates, registrations and closures
(deregistrations, revocations, bans), supervision, penalties by kind and credit listings
by year, and the same per jurisdiction (the node's children). One read answers them all
(``statistics_document``, from the statistics read model, within the reader's
jurisdiction); the JSON API, the page (with a bar chart of each table, SVG drawn on the
server) and the CSV and XLSX exports of each table are made from it, so they agree.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Mapping

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext

from adapters.web.openapi import NETWORK_CODE, query
from adapters.web.reads import AFTER, figures
from adapters.web.requests import (ApiError, answer_or_refusal, authorize, fresh,
                                   login_redirect, page, signed_in)
from domain.codes import jurisdiction_level, jurisdiction_prefix
from domain.organization import PENALTY_KINDS
from domain.texts import N_

api_bp = Blueprint("statistics", __name__, url_prefix="/api/v1")
bp = Blueprint("statistics_pages", __name__, template_folder="templates")


@dataclass(frozen=True)
class Column:
    """A column: a count of the read model (``key`` is its kind), the sum of several
    (``sum_of``), or a rate (``rate_of``: numerator and denominator columns' keys)."""

    key: str
    title: str
    sum_of: tuple[str, ...] = ()
    rate_of: tuple[str, str] | None = None

    def value(self, counts: Mapping[str, int]) -> int | float | None:
        if self.rate_of is not None:
            above, below = (self._count(counts, k) for k in self.rate_of)
            return round(above / below, 4) if below else None
        return self._count(counts, self.key)

    def _count(self, counts: Mapping[str, int], key: str) -> int:
        column = COLUMNS.get(key)
        if column is not None and column.sum_of:
            return sum(counts.get(k, 0) for k in column.sum_of)
        return counts.get(key, 0)


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    chart: tuple[str, ...]  # the columns drawn as bars
    stacked: bool = False  # the bars add up to a whole (the conclusions of a year)
    by: str = "year"  # or "jurisdiction"


def c(key: str, title: str, **more: Any) -> Column:
    return Column(key, title, **more)


PENALTIES = tuple(f"penalty_{kind}" for kind in PENALTY_KINDS)
COLUMNS = {column.key: column for column in (
    c("inspection_due", N_("Concluded")),
    c("conclusion_qualified", N_("Qualified")),
    c("conclusion_basically_qualified", N_("Basically qualified")),
    c("conclusion_unqualified", N_("Unqualified")),
    c("pass_rate", N_("Pass rate"), rate_of=("conclusion_qualified", "inspection_due")),
    c("unqualified_rate", N_("Unqualified rate"),
      rate_of=("conclusion_unqualified", "inspection_due")),
    c("conclusion_corrected", N_("Conclusions corrected")),
    c("registered", N_("Registered")),
    c("recorded", N_("Community organizations recorded")),
    c("deregistered", N_("Deregistered")),
    c("revoked", N_("Registration revoked")),
    c("banned", N_("Banned")),
    c("inspection", N_("Spot checks")),
    c("rectification", N_("Rectification notices")),
    c("rectification_overdue", N_("Rectifications overdue")),
    c("management_suggestion", N_("Management suggestions")),
    c("interview", N_("Interviews")),
    c("major_event", N_("Major-event reports")),
    c("rated", N_("Level assessments")),
    c("penalty_warning", N_("Warning")),
    c("penalty_fine", N_("Fine")),
    c("penalty_confiscation", N_("Confiscation of illegal gains")),
    c("penalty_suspension", N_("Suspension of activities")),
    c("penalty_revocation", N_("Revocation of registration")),
    c("penalties", N_("Penalties"), sum_of=PENALTIES),
    c("penalty_rescinded", N_("Penalties rescinded")),
    c("listed_abnormal_activity", N_("Listed: abnormal activity")),
    c("delisted_abnormal_activity", N_("Removed: abnormal activity")),
    c("listed_serious_dishonesty", N_("Listed: serious dishonesty")),
    c("delisted_serious_dishonesty", N_("Removed: serious dishonesty")),
)}


def table(name: str, title: str, keys: tuple[str, ...], chart: tuple[str, ...],
          **more: Any) -> Table:
    return Table(name, title, tuple(COLUMNS[k] for k in keys), chart, **more)


TABLES = (
    table("inspections", N_("Annual inspections by year"),
          ("inspection_due", "conclusion_qualified", "conclusion_basically_qualified",
           "conclusion_unqualified", "pass_rate", "unqualified_rate", "conclusion_corrected"),
          ("conclusion_qualified", "conclusion_basically_qualified", "conclusion_unqualified"),
          stacked=True),
    table("registrations", N_("Registrations and closures by year"),
          ("registered", "recorded", "deregistered", "revoked", "banned"),
          ("registered", "deregistered", "revoked")),
    table("supervision", N_("Supervision by year"),
          ("inspection", "rectification", "rectification_overdue", "management_suggestion",
           "interview", "major_event", "rated"),
          ("inspection", "rectification", "management_suggestion")),
    table("penalties", N_("Penalties by year and kind"),
          (*PENALTIES, "penalties", "penalty_rescinded"), PENALTIES, stacked=True),
    table("credit_lists", N_("Credit listings by year"),
          ("listed_abnormal_activity", "delisted_abnormal_activity",
           "listed_serious_dishonesty", "delisted_serious_dishonesty"),
          ("listed_abnormal_activity", "listed_serious_dishonesty")),
    table("jurisdictions", N_("By jurisdiction"),
          ("registered", "deregistered", "revoked", "penalties", "listed_abnormal_activity",
           "listed_serious_dishonesty", "inspection_due", "conclusion_qualified",
           "pass_rate"),
          ("deregistered", "revoked", "penalties"), by="jurisdiction"),
)
BY_NAME = {t.name: t for t in TABLES}
CHILD_DIGITS = {"district": 9, "sub_district": 12}


def _rows(table: Table, groups: list[tuple[str, str, Mapping[str, int]]]) -> dict:
    """A table's rows (label, its code and the values of each column) and its total."""
    rows = [{"key": key, "label": label,
             "values": {col.key: col.value(counts) for col in table.columns}}
            for key, label, counts in groups]
    whole: dict[str, int] = {}
    for _key, _label, counts in groups:
        for kind, n in counts.items():
            whole[kind] = whole.get(kind, 0) + n
    return {"name": table.name, "title": table.title, "by": table.by,
            "columns": [{"key": col.key, "title": col.title,
                         "rate": col.rate_of is not None} for col in table.columns],
            "chart": list(table.chart), "stacked": table.stacked, "rows": rows,
            "total": {col.key: col.value(whole) for col in table.columns}}


def statistics_document(args: Mapping[str, str]) -> dict:
    """The statistics of a jurisdiction (default: the reader's own; an auditor names
    one), per year and per child jurisdiction (``year``: that year's, default every
    year's), as tables."""
    found = figures(args)  # checks the role, the jurisdiction and its scope
    jurisdiction = found["jurisdiction"]
    year = int(args["year"]) if args.get("year") else None
    years = {y: data["counts"] for y, data in found["years"].items()}
    view = fresh("network", {})
    names = {n["code"]: n["name"] for n in view.nodes(jurisdiction_prefix(jurisdiction)[:6])}
    children: dict[str, dict[str, int]] = {}
    digits = CHILD_DIGITS.get(jurisdiction_level(jurisdiction))
    if digits is not None:
        children = fresh("statistics", args).totals_by_child(
            jurisdiction_prefix=jurisdiction_prefix(jurisdiction), child_digits=digits,
            year=year)
    tables = {}
    for spec in TABLES:
        if spec.by == "year":
            groups = [(y, y, counts) for y, counts in sorted(years.items())]
        else:
            groups = [(code, names.get(code) or code, counts)
                      for code, counts in sorted(children.items())]
        tables[spec.name] = _rows(spec, groups)
    return {**found, "name": names.get(jurisdiction), "year": year, "tables": tables}


YEAR = ({"type": "integer", "minimum": 1980, "maximum": 2100},
        "only this year (the per-jurisdiction table too)")


@api_bp.get("/statistics")
@query(jurisdiction=(NETWORK_CODE, "a jurisdiction within yours (12-digit code; default "
                                   "your own, required for an auditor)"),
       year=YEAR, after=AFTER)
def statistics():
    """Counts per year and kind for a jurisdiction (rolled up), with pass rates, and the
    statistics tables: inspections, registrations and closures, supervision, penalties,
    credit listings by year, and per child jurisdiction."""
    return jsonify(statistics_document(request.args))


# ------------------------------------------------------------------ the page

def cell(value: Any, rate: bool) -> str:
    """A value as the page and the CSV show it: a count, or a rate in per cent."""
    if value is None:
        return "—"
    return f"{100 * value:.1f}%" if rate else str(value)


def table_cells(data: dict) -> list[list[str]]:
    """A table as the reader sees it: the header in the page's language, a row per year
    or jurisdiction, and the total."""
    columns = data["columns"]
    first = gettext("Year") if data["by"] == "year" else gettext("Jurisdiction")
    out = [[first, *(gettext(col["title"]) for col in columns)]]
    for row in [*data["rows"], {"label": gettext("Total"), "values": data["total"]}]:
        out.append([str(row["label"]), *(cell(row["values"][col["key"]], col["rate"])
                                         for col in columns)])
    return out


COLOURS = ("#2e7d32", "#f2c94c", "#b00020", "#1d3f7a", "#8b1a1a", "#6a4c93", "#999999")
CHART_WIDTH, LABEL_WIDTH, BAR, GAP = 560, 150, 12, 8


def chart(data: dict) -> dict:
    """A table's bar chart: per row (year or jurisdiction) its chart columns, stacked
    into one bar or side by side, to the scale of the largest; geometry for the SVG."""
    titles = {col["key"]: col["title"] for col in data["columns"]}
    series = data["chart"]
    rows, y = [], 0
    values = [[row["values"][k] or 0 for k in series] for row in data["rows"]]
    top = max([sum(v) if data["stacked"] else max(v, default=0) for v in values] + [1])
    for row, numbers in zip(data["rows"], values):
        bars, x = [], LABEL_WIDTH
        height = BAR if data["stacked"] else BAR * len(series)
        for i, (key, n) in enumerate(zip(series, numbers)):
            width = round(CHART_WIDTH * n / top, 1)
            bars.append({"x": x, "y": y + (0 if data["stacked"] else BAR * i),
                         "w": width, "h": BAR, "colour": COLOURS[i % len(COLOURS)],
                         "title": titles[key], "n": n})
            if data["stacked"]:
                x += width
        end = x if data["stacked"] else LABEL_WIDTH + max((b["w"] for b in bars), default=0)
        rows.append({"label": str(row["label"]), "y": y, "mid": y + height / 2 + 4,
                     "bars": bars, "end": end, "sum": sum(numbers)})
        y += height + GAP
    return {"rows": rows, "height": max(y, 1), "width": LABEL_WIDTH + CHART_WIDTH + 60,
            "legend": [{"colour": COLOURS[i % len(COLOURS)], "title": titles[k]}
                       for i, k in enumerate(series)], "stacked": data["stacked"]}


def _chosen(args: Mapping[str, str]) -> dict[str, str]:
    return {k: args[k] for k in ("jurisdiction", "year") if args.get(k)}


@bp.get("/statistics")
def statistics_page():
    actor = signed_in()
    if actor is None:
        return login_redirect()
    chosen = _chosen(request.args)
    if "jurisdiction" not in chosen and not actor.jurisdiction:
        status, nodes = answer_or_refusal(_districts)
        if status != 200:
            return page("error.html", status, error=nodes.get("error", {}))
        return page("statistics.html", data=None, districts=nodes, chosen=chosen)
    status, data = answer_or_refusal(statistics_document, chosen)
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    cells = {name: table_cells(t) for name, t in data["tables"].items()}
    charts = {name: chart(t) for name, t in data["tables"].items()}
    return page("statistics.html", data=data, cells=cells, charts=charts, chosen=chosen,
                districts=[])


def _districts() -> list[dict]:
    """The districts of the network, for a reader without a jurisdiction of its own
    (the auditor) to choose from; the others have none to choose (403)."""
    authorize("read_all")
    return [n for n in fresh("network", {}).nodes("") if n["level"] == "district"]


@bp.get("/statistics/<name>.<fmt>")
def export(name: str, fmt: str):
    """One table of the page as CSV (UTF-8 with a byte-order mark, which Excel reads)
    or as an Excel workbook: the cells the page shows (an XLSX holds counts as numbers
    and rates as percentages)."""
    if signed_in() is None:
        return login_redirect()
    if name not in BY_NAME or fmt not in ("csv", "xlsx"):
        raise ApiError(404, "not_found", "no such table or format")
    chosen = _chosen(request.args)
    status, data = answer_or_refusal(statistics_document, chosen)
    if status != 200:
        return page("error.html", status, error=data.get("error", {}))
    found = data["tables"][name]
    stem = f"statistics-{data['jurisdiction']}-{name}" + (f"-{data['year']}"
                                                          if data["year"] else "")
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(table_cells(found))
        return Response(buffer.getvalue().encode("utf-8-sig"), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
    return Response(workbook(found, data), headers={
        "Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def workbook(found: dict, data: dict) -> bytes:
    # start-up: openpyxl (about 0.1 s) only when a workbook is written
    from openpyxl import Workbook
    from openpyxl.styles import Font  # start-up: as above

    book = Workbook()
    sheet = book.active
    sheet.title = found["name"]
    cells = table_cells(found)
    sheet.append([f"{gettext(found['title'])} · {data.get('name') or data['jurisdiction']}"])
    sheet["A1"].font = Font(bold=True)
    sheet.append(cells[0])
    for row in [*found["rows"], {"label": gettext("Total"), "values": found["total"]}]:
        sheet.append([str(row["label"]), *(row["values"][col["key"]]
                                           for col in found["columns"])])
        for number, col in enumerate(found["columns"], start=2):
            if col["rate"]:
                sheet.cell(row=sheet.max_row, column=number).number_format = "0.0%"
    for header in sheet[2]:
        header.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
