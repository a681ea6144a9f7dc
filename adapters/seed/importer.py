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
unknown columns are refused, so a misspelt header never silently drops a value. A CSV is
UTF-8 (with or without the byte-order mark Excel writes: "CSV UTF-8"); of an XLSX the
first sheet is read. Blank rows are skipped; the first non-blank row is the header. Row
numbers in the report are the spreadsheet's (the header is usually row 1).

A community organization without a code and without a record number gets the record
number ``BA`` + its committee + 6 hex digits derived from its name, so importing the same
file twice is refused as "already registered" rather than recording it twice.

Every field goes through the JSON API's own declarations (``adapters.web.api``:
``REGISTRATION``, ``COMMUNITY``, ``DOMICILE``; ``adapters.commands.validation.convert``) and
every row through the aggregate's own command (``Organization.register`` /
``Organization.record``), so an imported organization passed exactly the checks of one
registered through the API. Each event is marked ``imported`` (its meta and the
organization) with the reason "imported from register" and the row's ``registered_on``
as its effective date.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import logging
import os
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable

from adapters.commands import validation as v
from domain.access import in_scope
from domain.errors import DomainError
from domain.meta import Meta
from domain.organization import ORG_TYPES, Organization

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
REASON = "imported from register"
BATCH_SIZE = 200
MAX_ROWS = 100_000
RECORD_NUMBER_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{3,63}")
# Domain errors name the API's fields; the report names the spreadsheet's columns.
DOMAIN_FIELDS = {"domicile.jurisdiction": "jurisdiction", "domicile.address": "domicile_address",
                 "domicile": "domicile_address", "org_type": "type"}

Progress = Callable[[str, int, int], Any]  # (stage "parsed" | "saved", done, total)


class UnreadableFile(Exception):
    """The file is not a UTF-8 CSV or an XLSX workbook."""


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


# ------------------------------------------------------------------- reading files

def read_table(source: Any) -> tuple[int, list[Any], list[tuple[int, list[Any]]]]:
    """The header's row number, the header and the non-blank data rows (each with its row
    number) of a CSV or XLSX given as a path, bytes or a binary file object (an upload).
    The format is told by the content, not the file name."""
    data = _bytes_of(source)
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("this is an old Excel .xls workbook: save it as .xlsx or as "
                             "CSV UTF-8")
    elif b"\x00" in data[:4096]:
        raise UnreadableFile("the file is neither a CSV nor an XLSX workbook")
    else:
        rows = _csv_rows(data)
    header_row, header = 0, None
    body: list[tuple[int, list[Any]]] = []
    for number, values in rows:
        if all(_blank(x) for x in values):
            continue
        if header is None:
            header_row, header = number, list(values)
            continue
        body.append((number, list(values)))
        if len(body) > MAX_ROWS:
            raise UnreadableFile(f"more than {MAX_ROWS} rows: split the file")
    if header is None:
        raise UnreadableFile("the file is empty: it needs a header row and one row per "
                             "organization")
    return header_row, header, body


def _bytes_of(source: Any) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_bytes()
    if hasattr(source, "read"):
        return source.read()
    raise TypeError(f"cannot read rows from {type(source).__name__}")


def _csv_rows(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("the CSV is not UTF-8: save it as \"CSV UTF-8\" (or as .xlsx)"
                             ) from None
    try:
        # One record is one row of the spreadsheet, even with line breaks in a cell.
        return list(enumerate(csv.reader(io.StringIO(text, newline="")), start=1))
    except csv.Error as e:
        raise UnreadableFile(f"the CSV is malformed: {e}") from None


def _xlsx_rows(data: bytes):
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise UnreadableFile("the file is not a readable XLSX workbook") from None
    try:
        if not workbook.worksheets:
            raise UnreadableFile("the workbook has no sheet")
        sheet = workbook.worksheets[0]
        return list(enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1))
    finally:
        workbook.close()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalize_header(value: Any) -> str:
    text = str(value).strip()
    text = re.sub(r"\s*[（(][^()（）]*[)）]\s*$", "", text).rstrip("*").strip()
    return re.sub(r"[\s\-]+", "_", text.lower())


HEADER_ALIASES = {**{normalize_header(c): c for c in COLUMNS},
                  **{normalize_header(zh): c for c, zh in CHINESE_HEADERS.items()}}


def _columns(header_row: int, header: list[Any],
             errors: list[RowError]) -> dict[int, str]:
    """Position -> column name; unknown, repeated and missing columns are errors."""
    positions: dict[int, str] = {}
    seen: dict[str, int] = {}
    for position, raw in enumerate(header):
        if _blank(raw):
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
    """Each column's declaration, from the API's own (registered / community)."""
    from adapters.web.api import COMMUNITY, DOMICILE, REGISTRATION

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


def _cell(value: Any, kind: str) -> Any:
    """A cell as the JSON value the API's converter expects; None when empty."""
    if _blank(value):
        return None
    if isinstance(value, str):
        value = value.strip()
        if kind == "date":
            match = re.fullmatch(r"([0-9]{4})[/-]([0-9]{1,2})[/-]([0-9]{1,2})", value)
            if match:
                y, m, d = match.groups()
                return f"{y}-{int(m):02d}-{int(d):02d}"
        if kind == "decimal":
            try:
                number = Decimal(value.replace(",", "").replace("，", ""))
            except InvalidOperation:
                return value  # "must be a number"
            return _json_number(number, value)
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):  # a date cell; with a time it is not a date
        if value.time() == clock_time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _json_number(value, str(value)) if kind == "decimal" else str(value)
    if isinstance(value, (int, float)):
        if kind == "decimal":
            return value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return str(value)


def _json_number(number: Decimal, text: str) -> Any:
    if not number.is_finite():
        return text
    if number.adjusted() > v.MAX_AMOUNT.adjusted():
        return float(v.MAX_AMOUNT) * 10  # "too large" (and no int of a billion digits)
    if number == number.to_integral_value():
        return int(number)
    as_float = float(number)
    return as_float if Decimal(str(as_float)) == number else text


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
            if not _blank(raw):
                fail(column, f"{column} applies to community organizations without a code "
                             "only")
            continue
        if community and column in REGISTERED_ONLY:
            if not _blank(raw):
                fail(column, f"{column} does not apply to a community organization: leave "
                             "it empty")
            continue
        value = _cell(raw, spec.kind)
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
    elif community and _blank(cells.get("code")):
        if record_number and "record_number" not in failed:
            row.identifier, row.identifier_field = record_number, "record_number"
        elif (_blank(cells.get("record_number")) and values.get("name")
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
                    jurisdiction: str | None = None, progress: Progress | None = None,
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
    today = today or _today()
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
                elif not _blank(value):
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


def _today() -> date:
    from adapters.web.api import today

    return today()


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
          progress: Progress | None) -> None:
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
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"export to .xlsx or .csv, not {path.suffix or 'no extension'}")
    header = [CHINESE_HEADERS[c] if chinese_headers else c for c in COLUMNS]
    rows = [_export_row(casefiles.get_organization(i)) for i in identifiers]
    if suffix == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            for row in rows:
                writer.writerow(["" if x is None else x.isoformat() if isinstance(x, date)
                                 else str(x) for x in row])
        return len(rows)
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("register")
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(path)
    return len(rows)


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


# ------------------------------------------------------------------- command line

class StderrProgress:
    """A one-line progress bar on stderr for ``import_register(progress=...)``."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.stage: str | None = None
        self.last_draw = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        final = done >= total
        if stage == self.stage and not final and now - self.last_draw < 0.1:
            return
        if self.stage is not None and stage != self.stage:
            self.stream.write("\n")
        self.stage, self.last_draw = stage, now
        width = 30
        filled = int(width * done / total) if total else width
        self.stream.write(f"\r  {stage:6} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{done}/{total} rows ")
        self.stream.flush()

    def close(self) -> None:
        if self.stage is not None:
            self.stream.write("\n")
            self.stream.flush()


def report_lines(report: ImportReport) -> list[str]:
    """The report as text: a summary line, then one line per error (row, field,
    message)."""
    lines = [f"{report.rows_read} rows read, {report.imported} imported, "
             f"{len(report.errors)} errors, {report.seconds:.1f} s"]
    for error in report.errors:
        where = f"row {error.row}" if error.row is not None else "file"
        lines.append(f"{where}\t{error.field or '-'}\t{error.message}")
    return lines
