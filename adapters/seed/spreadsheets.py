"""Spreadsheets as rows of cells: reading a CSV or XLSX (told by its content), writing
one, and a cell as the JSON value a command's field declaration converts.

A CSV is UTF-8 (with or without the byte-order mark Excel writes: "CSV UTF-8"); of an
XLSX the first sheet is read. Blank rows are skipped; the first non-blank row is the
header. Row numbers are the spreadsheet's (the header is usually row 1).
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from datetime import date, datetime
from datetime import time as clock_time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable

from adapters.commands import validation as v

MAX_ROWS = 100_000


class UnreadableFile(Exception):
    """The file is not a UTF-8 CSV or an XLSX workbook."""


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
        if all(blank(x) for x in values):
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
    # start-up: openpyxl (about 0.1 s) only when a workbook is read
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException  # start-up: as above

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


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalize_header(value: Any) -> str:
    """A header as a column name: a unit in brackets (``注册资金（元）``) and a trailing
    ``*`` dropped, lower case, runs of spaces and hyphens as ``_``."""
    text = str(value).strip()
    text = re.sub(r"\s*[（(][^()（）]*[)）]\s*$", "", text).rstrip("*").strip()
    return re.sub(r"[\s\-]+", "_", text.lower())


def write_table(path: str | os.PathLike, header: list[str],
                rows: Iterable[list[Any]]) -> int:
    """Write a header and rows to ``path``: XLSX (dates as date cells, codes as text) or
    CSV UTF-8 with a byte-order mark, by the extension (.xlsx or .csv). Answers the
    number of rows written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"export to .xlsx or .csv, not {path.suffix or 'no extension'}")
    written = 0
    if suffix == ".csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            for row in rows:
                writer.writerow(["" if x is None else x.isoformat() if isinstance(x, date)
                                 else str(x) for x in row])
                written += 1
        return written
    # start-up: openpyxl (about 0.1 s) only when a workbook is written
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell  # start-up: as above

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
        written += 1
    workbook.save(path)
    return written


def cell_value(value: Any, kind: str) -> Any:
    """A cell as the JSON value the API's converter expects; None when empty."""
    if blank(value):
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
