"""Bulk import of an existing register from a spreadsheet (CSV or XLSX), and its export.

The file has a header row and one organization per row. The columns, with the Chinese
headers accepted for each (a unit in brackets after a header is ignored: ``注册资金（元）``;
case, spaces and hyphens in the English names do not matter):

==========================  ================  =============================================
column                      Chinese header    value
==========================  ================  =============================================
``code``                    统一社会信用代码  the unified social credit code; may be empty
                                              for a community organization
``name``                    名称              the organization's name
``type``                    类型              ``social_association`` (社会团体),
                                              ``social_service_institution`` (社会服务机构,
                                              民办非企业单位), ``foundation`` (基金会) or
                                              ``community_organization`` (社区社会组织)
``domicile_address``        住所              the address
``jurisdiction``            所属居委会        the 12-digit code of its residents' or village
                                              committee
``business_scope``          业务范围          the business scope
``registered_funds``        注册资金          yuan, at most two decimals; empty for a
                                              community organization
``supervisory_unit``        业务主管单位      optional; empty for a community organization
``founded_on``              成立日期          ``YYYY-MM-DD`` (also ``YYYY/M/D``, or a date
                                              cell in XLSX)
``certificate_valid_until`` 证书有效期至      a date; empty for a community organization
``registered_on``           登记日期          the registration's (or record's) effective
                                              date: the business date of the event
``record_number``           备案编号          optional, community organizations without a
                                              code only: their record number
==========================  ================  =============================================

Every column must be in the header except ``supervisory_unit`` and ``record_number``;
unknown columns are refused, so a misspelt header never silently drops a value. How the
file is read (CSV UTF-8 or the first sheet of an XLSX; blank rows skipped; row numbers
as in the spreadsheet) is adapters.seed.spreadsheets'.

A community organization without a code and without a record number gets the record
number ``BA`` + its committee + 6 hex digits derived from its name, so importing the same
file twice is refused as "already registered" rather than recording it twice.

Every field goes through the commands' own declarations (``adapters.commands.catalog``:
``REGISTRATION``, ``COMMUNITY``, ``DOMICILE``; ``adapters.commands.validation.convert``) and
every row through the aggregate's own command (``Organization.register`` /
``Organization.record``), so an imported organization passed exactly the checks of one
registered through the API (a text cell holding an identity number is refused too,
by row and column, as the API refuses it). Each event is marked ``imported`` (its meta and the
organization) with the reason "imported from register" and the row's ``registered_on``
as its effective date.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable

from adapters.commands import validation as v
from adapters.commands.catalog import COMMUNITY, DOMICILE, REGISTRATION
from adapters.seed.spreadsheets import (UnreadableFile, blank, cell_value, normalize_header,
                                        read_table, write_table)
from domain.access import in_scope
from domain.calendar import today_in_china
from domain.errors import DomainError
from domain.meta import Meta
from domain.organization import ORG_TYPES, Organization
from domain.texts import render

log = logging.getLogger(__name__)

COLUMNS = ("code", "name", "type", "domicile_address", "jurisdiction", "business_scope",
           "registered_funds", "supervisory_unit", "founded_on", "certificate_valid_until",
           "registered_on", "record_number")
OPTIONAL_COLUMNS = frozenset({"supervisory_unit", "record_number"})
CHINESE_HEADERS = {
    "code": "统一社会信用代码", "name": "名称", "type": "类型", "domicile_address": "住所",
    "jurisdiction": "所属居委会", "business_scope": "业务范围", "registered_funds": "注册资金",
    "supervisory_unit": "业务主管单位", "founded_on": "成立日期",
    "certificate_valid_until": "证书有效期至", "registered_on": "登记日期",
    "record_number": "备案编号",
}
TYPE_LABELS = {"社会团体": "social_association", "社会服务机构": "social_service_institution",
               "民办非企业单位": "social_service_institution", "基金会": "foundation",
               "社区社会组织": "community_organization"}
# Filled in by registered organizations only: a community organization leaves them empty.
REGISTERED_ONLY = ("registered_funds", "supervisory_unit", "certificate_valid_until")
REASON = render("imported")
BATCH_SIZE = 200
RECORD_NUMBER_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{3,63}")
# Domain errors name the API's fields; the report names the spreadsheet's columns.
DOMAIN_FIELDS = {"domicile.jurisdiction": "jurisdiction", "domicile.address": "domicile_address",
                 "domicile": "domicile_address", "org_type": "type"}

OnProgress = Callable[[str, int, int], Any]  # (stage "parsed" | "saved", done, total)


@dataclass(frozen=True)
class RowError:
    row: int | None  # as in the spreadsheet; None for the file as a whole
    field: str | None  # the column
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass
class ImportReport:
    rows_read: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0
    identifiers: list[str] = field(default_factory=list)  # those imported, in file order
    position: int | None = None  # the last imported event's position in the log
    save_failed: bool = False  # every row was valid but saving a batch failed

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {"rows_read": self.rows_read, "imported": self.imported,
                "errors": [e.as_dict() for e in self.errors], "seconds": self.seconds}


# ------------------------------------------------------------------- the header

HEADER_ALIASES = {**{normalize_header(c): c for c in COLUMNS},
                  **{normalize_header(zh): c for c, zh in CHINESE_HEADERS.items()}}


def _columns(header_row: int, header: list[Any],
             errors: list[RowError]) -> dict[int, str]:
    """Position -> column name; unknown, repeated and missing columns are errors."""
    positions: dict[int, str] = {}
    seen: dict[str, int] = {}
    for position, raw in enumerate(header):
        if blank(raw):
            continue
        name = HEADER_ALIASES.get(normalize_header(raw))
        if name is None:
            errors.append(RowError(header_row, str(raw).strip(),
                                   f"unknown column {str(raw).strip()!r}; expected: "
                                   f"{', '.join(COLUMNS)} (or their Chinese headers)"))
            continue
        if name in seen:
            errors.append(RowError(header_row, name, f"column {name} appears twice"))
            continue
        seen[name] = position
        positions[position] = name
    for name in COLUMNS:
        if name not in seen and name not in OPTIONAL_COLUMNS:
            errors.append(RowError(header_row, name,
                                   f"column {name} ({CHINESE_HEADERS[name]}) is missing"))
    return positions


# ------------------------------------------------------------------- one row

def _specs() -> dict[str, dict[str, v.F]]:
    """Each column's declaration, from the commands' own (registered / community)."""
    common = {"name": REGISTRATION["name"], "type": v.enum(ORG_TYPES),
              "domicile_address": DOMICILE.schema["address"],
              "jurisdiction": DOMICILE.schema["jurisdiction"],
              "business_scope": REGISTRATION["business_scope"],
              "founded_on": REGISTRATION["founded_on"], "registered_on": v.a_date()}
    registered = {**common, "code": REGISTRATION["code"],
                  "registered_funds": REGISTRATION["registered_funds"],
                  "supervisory_unit": REGISTRATION["supervisory_unit"],
                  "certificate_valid_until": REGISTRATION["certificate_valid_until"]}
    community = {**common, "code": COMMUNITY["code"], "name": COMMUNITY["name"],
                 "business_scope": COMMUNITY["business_scope"],
                 "founded_on": COMMUNITY["founded_on"],
                 "record_number": v.line(False, 64, nullable=True)}
    return {"registered": registered, "community": community}


def derived_record_number(jurisdiction: str, name: str) -> str:
    """A community organization's record number when the register gives none: stable,
    so the same organization imported twice is the same identifier."""
    digest = hashlib.sha256(f"{jurisdiction}\n{name}".encode()).hexdigest()[:6].upper()
    return f"BA{jurisdiction}{digest}"


@dataclass
class _Row:
    number: int
    identifier: str | None = None
    identifier_field: str = "code"
    aggregate: Organization | None = None


def _parse_row(number: int, cells: dict[str, Any], specs: dict[str, dict[str, v.F]],
               base: Meta, jurisdiction: str | None, today: date,
               errors: list[RowError]) -> _Row:
    row = _Row(number)
    found: list[RowError] = []

    def fail(column: str | None, message: str) -> None:
        found.append(RowError(number, column, message))

    type_cell = cells.get("type")
    if isinstance(type_cell, str) and type_cell.strip() in TYPE_LABELS:
        cells["type"] = TYPE_LABELS[type_cell.strip()]
    community = cells.get("type") == "community_organization"
    schema = specs["community" if community else "registered"]
    values: dict[str, Any] = {}
    for column in COLUMNS:
        raw = cells.get(column)
        spec = schema.get(column)
        if spec is None:  # record_number of a registered organization
            if not blank(raw):
                fail(column, f"{column} applies to community organizations without a code "
                             "only")
            continue
        if community and column in REGISTERED_ONLY:
            if not blank(raw):
                fail(column, f"{column} does not apply to a community organization: leave "
                             "it empty")
            continue
        value = cell_value(raw, spec.kind)
        if value is None:
            if spec.required and not spec.nullable:
                fail(column, f"{column} is required")
            values[column] = None
            continue
        try:
            values[column] = v.convert(value, spec, column)
        except DomainError as e:
            fail(e.field or column, e.message)
    record_number = values.get("record_number")
    if record_number is not None:
        if values.get("code") is not None:
            fail("record_number", "give either code or record_number, not both: the code "
                                  "identifies the organization")
        elif not RECORD_NUMBER_RE.fullmatch(record_number):
            fail("record_number", "record_number must be 4-64 letters, digits, _ or -")
    failed = {e.field for e in found}
    if values.get("code") and "code" not in failed:
        row.identifier = values["code"]
    elif community and blank(cells.get("code")):
        if record_number and "record_number" not in failed:
            row.identifier, row.identifier_field = record_number, "record_number"
        elif (blank(cells.get("record_number")) and values.get("name")
              and values.get("jurisdiction") and not failed & {"name", "jurisdiction"}):
            row.identifier = derived_record_number(values["jurisdiction"], values["name"])
            row.identifier_field = "name"
    registered_on = values.get("registered_on")
    if registered_on is not None and registered_on > today:
        fail("registered_on", f"registered_on {registered_on} is in the future; record "
                              "what has taken effect")
    if jurisdiction is not None and values.get("jurisdiction") and not in_scope(
            role=base.actor_role, jurisdiction=jurisdiction, own_organization=None,
            org_identifier=row.identifier or "", org_jurisdiction=values["jurisdiction"]):
        fail("jurisdiction", f"{values['jurisdiction']} is outside your jurisdiction "
                             f"{jurisdiction}")
    if not found:
        row.aggregate = _build(values, row, base, community, fail)
    errors.extend(found)
    return row


def _build(values: dict[str, Any], row: _Row, base: Meta, community: bool,
           fail: Callable[[str | None, str], None]) -> Organization | None:
    meta = dataclasses.replace(base, effective_date=values["registered_on"], reason=REASON,
                               imported=True)
    domicile = {"address": values["domicile_address"], "jurisdiction": values["jurisdiction"]}
    try:
        if community:
            return Organization.record(
                record_number=row.identifier, code=values.get("code"), name=values["name"],
                domicile=domicile, business_scope=values["business_scope"],
                founded_on=values["founded_on"], meta=meta, imported=True)
        return Organization.register(
            code=values["code"], name=values["name"], org_type=values["type"],
            domicile=domicile, business_scope=values["business_scope"],
            registered_funds=values["registered_funds"],
            supervisory_unit=values.get("supervisory_unit"), founded_on=values["founded_on"],
            certificate_valid_until=values["certificate_valid_until"], meta=meta,
            imported=True)
    except DomainError as e:
        fail(DOMAIN_FIELDS.get(e.field or "", e.field), e.message)
        return None


# ------------------------------------------------------------------- the import

def import_register(casefiles, rows_source: Any, *, actor_meta_base: Meta,
                    jurisdiction: str | None = None, progress: OnProgress | None = None,
                    batch_size: int = BATCH_SIZE, today: date | None = None) -> ImportReport:
    """Import a register (CSV or XLSX: a path, bytes or a binary file object) into
    ``casefiles``, all or nothing as far as the rules go.

    Every row is parsed and checked first: each field by the API's declarations, each
    organization by its aggregate's command (with ``actor_meta_base``'s actor and
    correlation id, the row's ``registered_on`` as effective date, the reason "imported
    from register" and ``imported=True``), codes repeated within the file, codes already
    registered, and, when ``jurisdiction`` is given (the acting account's), rows outside
    it. If any row has an error nothing is recorded and the report lists every error
    (row, column, message).

    Otherwise the organizations are saved ``batch_size`` at a time, each batch in one
    transaction. Every rule has been checked by then, so a batch can only fail on the
    database itself (an outage) or on a code that someone registered in the meantime. If
    a batch fails, that batch and those after it are not recorded while the batches
    before it stay recorded: the report then counts the organizations imported, lists
    them in ``identifiers``, and has one error naming the first row not imported.
    Importing the same file again refuses the rows already recorded as "already
    registered" (and so imports nothing), so import the remaining rows, from that row
    on, as a new file.

    ``progress(stage, done, total)`` is called with stage "parsed" and then "saved".
    """
    started = time.monotonic()
    today = today or today_in_china()
    report = ImportReport()
    errors = report.errors
    try:
        header_row, header, body = read_table(rows_source)
    except UnreadableFile as e:
        errors.append(RowError(None, None, str(e)))
        report.seconds = round(time.monotonic() - started, 3)
        return report
    report.rows_read = len(body)
    positions = _columns(header_row, header, errors)
    specs = _specs()
    rows: list[_Row] = []
    if not any(e.row == header_row for e in errors):
        for done, (number, values) in enumerate(body, start=1):
            cells: dict[str, Any] = {}
            for position, value in enumerate(values):
                if position in positions:
                    cells[positions[position]] = value
                elif not blank(value):
                    errors.append(RowError(number, None, f"a value in column {position + 1}, "
                                                         "which has no header"))
            rows.append(_parse_row(number, cells, specs, actor_meta_base, jurisdiction,
                                   today, errors))
            if progress:
                progress("parsed", done, len(body))
    if not body and not errors:
        errors.append(RowError(None, None, "the file has a header but no organizations"))
    _check_identifiers(casefiles, rows, errors)
    if errors:
        errors.sort(key=lambda e: (e.row or 0, _column_order(e.field)))
        report.seconds = round(time.monotonic() - started, 3)
        return report
    _save(casefiles, rows, report, batch_size, progress)
    report.seconds = round(time.monotonic() - started, 3)
    log.info("imported %d of %d rows in %.1f s by %s", report.imported, report.rows_read,
             report.seconds, actor_meta_base.actor_id)
    return report


def _column_order(name: str | None) -> int:
    return COLUMNS.index(name) if name in COLUMNS else -1


def _check_identifiers(casefiles, rows: list[_Row], errors: list[RowError]) -> None:
    """Each identifier once in the file, and not yet in the store."""
    first: dict[str, int] = {}
    for row in rows:
        if row.identifier is None:
            continue
        if row.identifier in first:
            what = ("the same community organization (name and jurisdiction)"
                    if row.identifier_field == "name" else f"{row.identifier_field} "
                                                           f"{row.identifier}")
            errors.append(RowError(row.number, row.identifier_field,
                                   f"{what} is also on row {first[row.identifier]}"))
            row.aggregate = None
            continue
        first[row.identifier] = row.number
        if _exists(casefiles, row.identifier):
            errors.append(RowError(row.number, row.identifier_field,
                                   f"{row.identifier} is already registered"))
            row.aggregate = None


def _exists(casefiles, identifier: str) -> bool:
    return bool(casefiles.recorder.select_events(Organization.create_id(identifier),
                                                 limit=1))


def _save(casefiles, rows: list[_Row], report: ImportReport, batch_size: int,
          progress: OnProgress | None) -> None:
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        try:
            recordings = casefiles.save(*(row.aggregate for row in batch))
        except Exception as e:  # noqa: BLE001 - the report must say what was recorded
            log.exception("import: saving from row %d failed", batch[0].number)
            report.save_failed = True
            recorded = (f"the {report.imported} rows before it were imported"
                        if report.imported else "nothing was imported")
            report.errors.append(RowError(
                batch[0].number, None,
                f"saving failed from this row on ({type(e).__name__}): this row and those "
                f"after it were not imported; {recorded}. Import the rows from this one on "
                "as a new file."))
            return
        report.imported += len(batch)
        report.identifiers += [row.identifier for row in batch]
        if recordings:
            report.position = recordings[-1].notification.id
        if progress:
            progress("saved", report.imported, len(rows))


# ------------------------------------------------------------------- export

def export_register(casefiles, identifiers: Iterable[str], path: str | os.PathLike, *,
                    chinese_headers: bool = False) -> int:
    """Write the organizations' current state in the import's columns to ``path``: XLSX
    (dates as date cells, codes as text) or CSV UTF-8 with a byte-order mark, by the
    extension. Returns the number of rows. The status is not a column: a deregistered,
    revoked or banned organization exported and imported again is active."""
    header = [CHINESE_HEADERS[c] if chinese_headers else c for c in COLUMNS]
    return write_table(path, header,
                       [_export_row(casefiles.get_organization(i)) for i in identifiers])


def _export_row(org: Organization) -> list[Any]:
    values = {"code": org.code, "name": org.name, "type": org.org_type,
              "domicile_address": org.domicile["address"],
              "jurisdiction": org.domicile["jurisdiction"],
              "business_scope": org.business_scope, "registered_funds": org.registered_funds,
              "supervisory_unit": org.supervisory_unit, "founded_on": org.founded_on,
              "certificate_valid_until": org.certificate_valid_until,
              "registered_on": org.registered_on,
              "record_number": org.identifier if org.code is None else None}
    return [values[c] for c in COLUMNS]


# ------------------------------------------------------------------- the report

def report_lines(report: ImportReport) -> list[str]:
    """The report as text: a summary line, then one line per error (row, field,
    message)."""
    lines = [f"{report.rows_read} rows read, {report.imported} imported, "
             f"{len(report.errors)} errors, {report.seconds:.1f} s"]
    for error in report.errors:
        where = f"row {error.row}" if error.row is not None else "file"
        lines.append(f"{where}\t{error.field or '-'}\t{error.message}")
    return lines
