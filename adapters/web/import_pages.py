"""The page that imports an existing register from a spreadsheet (CSV UTF-8 or XLSX).

``GET /import`` shows the upload form and the columns; ``POST /import`` (multipart, with
the session's ``csrf_token``) runs ``adapters.seed.importer.import_register`` as the signed-in
account, within its jurisdiction, and shows either the number imported or every error
(row, column, message), in which case nothing was recorded. Only roles allowed the
"register" action may import.
"""

from __future__ import annotations

import logging

from flask import (Blueprint, current_app, make_response, redirect, render_template,
                   request, url_for)
from flask_babel import get_locale, gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from adapters.seed.importer import (CHINESE_HEADERS, COLUMNS, OPTIONAL_COLUMNS, ImportReport,
                                    import_register)
from adapters.web.i18n import translate_error
from adapters.web.requests import correlation_header, make_meta, remember_position, signed_in
from domain.access import allowed

log = logging.getLogger(__name__)
bp = Blueprint("imports", __name__, template_folder="templates")

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # this page only; the API keeps its 64 KiB limit
MAX_ERRORS_SHOWN = 500


def column_label(name: str | None) -> str:
    """A column of the spreadsheet as the reader calls it: its Chinese header on the
    Chinese page, its name on the English one."""
    if not name:
        return ""
    if name in CHINESE_HEADERS and str(get_locale() or "zh").startswith("zh"):
        return CHINESE_HEADERS[name]
    return name


def shown_errors(report: ImportReport | None) -> list[dict]:
    """The report's first errors for the page: row, column and message in the page's
    language (adapters.web.i18n.translate_error knows the importer's messages)."""
    if report is None:
        return []
    return [{"row": e.row, "field": column_label(e.field),
             "message": translate_error({"message": e.message, "field": e.field,
                                         "code": ""})}
            for e in report.errors[:MAX_ERRORS_SHOWN]]


def _render(status: int = 200, **context):
    columns = [{"name": c, "zh": CHINESE_HEADERS[c], "optional": c in OPTIONAL_COLUMNS}
               for c in COLUMNS]
    context.setdefault("report", None)
    context.setdefault("error", None)
    response = make_response(render_template(
        "import.html", columns=columns, max_errors=MAX_ERRORS_SHOWN,
        errors=shown_errors(context["report"]), **context), status)
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(e):
    return _render(413, error=_("The file is larger than %(mb)s MB: split it.",
                                mb=MAX_UPLOAD_BYTES // (1024 * 1024)))


@bp.route("/import", methods=["GET", "POST"])
def import_page():
    # Before anything reads the form (the session's CSRF check does): uploads may be
    # larger than the API's bodies.
    request.max_content_length = MAX_UPLOAD_BYTES
    actor = signed_in()
    if actor is None:
        return redirect(url_for("pages.signin_form", next="/import"))
    if not allowed(actor.role, "register"):
        return _render(403, error=_("Your role may not register organizations."),
                       refused=True)
    if actor.jurisdiction is None:
        return _render(403, error=_("Your account has no jurisdiction."), refused=True)
    if request.method == "GET":
        return _render()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render(400, error=_("Choose a file to import."))
    report = import_register(current_app.extensions["casefiles"], upload,
                             actor_meta_base=make_meta(actor, {}, correlation_header()),
                             jurisdiction=actor.jurisdiction)
    log.info("%s imported %s: %d of %d rows, %d errors", actor.username, upload.filename,
             report.imported, report.rows_read, len(report.errors))
    status = 200 if report.ok else 503 if report.save_failed else 400
    response = _render(status, report=report, filename=upload.filename)
    remember_position(response, report.position)
    return response
