"""The printable case file (issue 14 item 6): the case file, or the case file as it was in
effect on a date or as known at a moment, as a PDF an officer can print or attach to a
letter. It carries the bureau's heading, when it was produced (China Standard Time, the
zone named), the event-log position it reflects and whether it is demo data; it is in the
reader's language (Chinese, or English with ``?lang=en``) and shows identity numbers only
masked, as the views do.

The case file is read by the API's own read (adapters.web.reads.case_file), so a PDF has
the same authorization and scope as the case file, time travel included (the
organization's jurisdiction now decides). It is rendered on the server by WeasyPrint from
its own template (templates/casefile_pdf.html: its styles inline, nothing fetched), so
the pages' Content-Security-Policy plays no part in it.

The bureau: ``BUREAU_NAME`` when set; otherwise the registration authority of the
organization's district, named after the district's node of the early-warning network
("杨浦区民政局"); a generic name when the network has no node for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from flask import Blueprint, Response, render_template, request
from flask_babel import get_locale, gettext

from adapters.config import bureau_name
from adapters.web.labels import field_label
from adapters.web.openapi import query, responds
from adapters.web.reads import case_file, timeline_at
from adapters.web.requests import casefiles
from domain.calendar import CHINA
from domain.errors import DomainError

bp = Blueprint("printing", __name__, url_prefix="/api/v1", template_folder="templates")

READ_ARGS = ("as_of", "known_at", "after")

@dataclass(frozen=True)
class PrintedCaseFile:
    pdf: bytes
    filename: str


def printed_case_file(code: str, args: Mapping[str, str]) -> PrintedCaseFile:
    """The case file (as of ``as_of`` and/or ``known_at``) as a PDF, for the reader."""
    args = {k: args[k] for k in READ_ARGS if args.get(k)}
    answer = case_file(code, args)  # authorization and scope: the case file's own
    document = answer.as_dict()
    identifier = document["identifier"]
    if "timeline" not in document:  # served from the event log: its timeline from there
        document["timeline"] = timeline_at(identifier, None, None,
                                           document["domicile"]["jurisdiction"])
    position = answer.position or casefiles().position_of_version(identifier, answer.version)
    produced = datetime.now(timezone.utc)
    html = render_template(
        "casefile_pdf.html", org=document, bureau=bureau(document["domicile"]["jurisdiction"]),
        produced=china_time(produced, seconds=True), position=position,
        version=answer.version, as_of=document.get("as_of"),
        known_at=document.get("known_at") and china_time(document["known_at"], seconds=True),
        demo=any(e.get("demo") for e in document.get("timeline") or []),
        page_counter=page_counter(gettext("Page %(page)s of %(pages)s")),
        field_label=field_label, china_time=china_time, amount=amount,
        lang_attr="en" if str(get_locale()) == "en" else "zh-CN")
    when = "".join(f"-{k}-{re.sub(r'[^0-9A-Za-z]', '', v)}" for k, v in args.items()
                   if k != "after")
    return PrintedCaseFile(render_pdf(html), f"casefile-{identifier}{when}.pdf")


def render_pdf(html: str) -> bytes:
    """The HTML as a PDF (A4, its fonts embedded); nothing is fetched."""
    # WeasyPrint loads Pango and HarfBuzz through cffi when imported, so
    # start-up: WeasyPrint (about 1.5 s) is imported only where a case file is printed
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_fetch_nothing).write_pdf()


def _fetch_nothing(url: str, *args: Any, **kwargs: Any) -> dict:
    raise ValueError(f"a printed case file fetches nothing ({url[:60]})")


def bureau(jurisdiction: str) -> str:
    """The registration authority named in the heading (see the module's docstring)."""
    named = bureau_name()
    if named:
        return named
    try:
        district = casefiles().get_node(jurisdiction[:6] + "000000")
    except DomainError:
        return gettext("Registration authority of social organizations")
    return gettext("%(district)s Civil Affairs Bureau", district=district.name)


def china_time(moment: str | datetime | None, seconds: bool = False,
               zone: bool = True) -> str:
    """A moment in China Standard Time, the zone named (unless a column's heading
    names it)."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    shown = moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S" if seconds else
                                              "%Y-%m-%d %H:%M")
    return gettext("%(time)s China Standard Time (UTC+8)", time=shown) if zone else shown


def amount(value: Any) -> str:
    """An amount of yuan with separators and two decimals (in a column that says
    yuan); '-' when there is none."""
    if value is None or value == "":
        return "-"
    return f"{Decimal(str(value)):,.2f}"


def page_counter(template: str) -> str:
    """A translated "Page %(page)s of %(pages)s" as the CSS ``content`` of a page
    footer: its text parts quoted, the placeholders as the page counters."""
    parts = re.split(r"(%\((?:page|pages)\)s)", template)
    css = []
    for part in parts:
        if part == "%(page)s":
            css.append("counter(page)")
        elif part == "%(pages)s":
            css.append("counter(pages)")
        elif part:
            css.append('"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(css)


def pdf_response(printed: PrintedCaseFile) -> Response:
    response = Response(printed.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{printed.filename}"'
    return response


@bp.get("/organizations/<code>/pdf")
@query(as_of=({"type": "string", "format": "date"},
              "the case file as it was in effect on this date"),
       known_at=({"type": "string", "format": "date-time"},
                 "the case file as it was recorded at this time"),
       lang=({"type": "string", "enum": ["zh", "en"]}, "the language (default zh)"))
@responds("application/pdf", "the case file as a PDF (A4)")
def case_file_pdf(code: str):
    """The case file as a PDF to print: the bureau's heading, when it was produced and
    the event-log position it reflects; as of a date or as known at a moment with the
    time-travel arguments; in Chinese, or English with ``lang=en``. The same
    authorization and scope as the case file."""
    return pdf_response(printed_case_file(code, request.args))
