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
from flask_babel import get_locale
from werkzeug.exceptions import RequestEntityTooLarge

from adapters.seed.importer import CHINESE_HEADERS, COLUMNS, OPTIONAL_COLUMNS, import_register
from adapters.web.requests import correlation_header, make_meta, remember_position, signed_in
from domain.access import allowed

log = logging.getLogger(__name__)
bp = Blueprint("imports", __name__, template_folder="templates")

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # this page only; the API keeps its 64 KiB limit
MAX_ERRORS_SHOWN = 500

# The page's messages in Chinese (the default language); English is the message itself.
ZH = {
    "Import a register": "导入社会组织名册",
    "Upload the register as CSV UTF-8 or XLSX (the first sheet), with a header row and one "
    "organization per row. Every row is checked first; if any row has an error, nothing is "
    "imported and the errors are listed.":
        "上传 CSV（UTF-8）或 XLSX（第一个工作表）格式的名册：第一行为表头，每行一个社会组织。"
        "导入前逐行校验，任何一行有错误则全部不导入，并列出错误。",
    "File": "文件", "Import": "导入", "Column": "列", "Chinese header": "中文表头",
    "required column": "必备列", "optional column": "可选列",
    "Dates are YYYY-MM-DD (or date cells). A community organization leaves code (unless it "
    "has one), registered_funds, supervisory_unit and certificate_valid_until empty; "
    "registered_on is the date the registration took effect.":
        "日期格式为 YYYY-MM-DD（或日期单元格）。社区社会组织的统一社会信用代码（如有可填）、"
        "注册资金、业务主管单位、证书有效期至留空；登记日期为成立登记（备案）生效的日期。",
    "%(n)s organizations imported from %(rows)s rows in %(s)s s.":
        "已从 %(rows)s 行导入 %(n)s 个社会组织，用时 %(s)s 秒。",
    "Nothing was imported: %(e)s errors in %(rows)s rows.":
        "未导入任何数据：%(rows)s 行中有 %(e)s 处错误。",
    "Row": "行", "Field": "字段", "Message": "说明", "file": "文件",
    "and %(n)s more errors": "另有 %(n)s 处错误",
    "Choose a file to import.": "请选择要导入的文件。",
    "The file is larger than %(mb)s MB: split it.": "文件超过 %(mb)s MB，请拆分后导入。",
    "Your role may not register organizations.": "您的角色无权办理成立登记。",
    "Your account has no jurisdiction.": "您的账户没有管辖范围。",
    "Your jurisdiction": "管辖范围",
    "Organizations": "社会组织",
}


def t(message: str, **values) -> str:
    if str(get_locale() or "zh").startswith("zh"):
        message = ZH.get(message, message)
    return message % values if values else message


def _render(status: int = 200, **context):
    columns = [{"name": c, "zh": CHINESE_HEADERS[c], "optional": c in OPTIONAL_COLUMNS}
               for c in COLUMNS]
    context.setdefault("report", None)
    context.setdefault("error", None)
    response = make_response(render_template("import.html", t=t, columns=columns,
                                             max_errors=MAX_ERRORS_SHOWN, **context), status)
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(e):
    return _render(413, error=t("The file is larger than %(mb)s MB: split it.",
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
        return _render(403, error=t("Your role may not register organizations."),
                       refused=True)
    if actor.jurisdiction is None:
        return _render(403, error=t("Your account has no jurisdiction."), refused=True)
    if request.method == "GET":
        return _render()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render(400, error=t("Choose a file to import."))
    report = import_register(current_app.extensions["casefiles"], upload,
                             actor_meta_base=make_meta(actor, {}, correlation_header()),
                             jurisdiction=actor.jurisdiction)
    log.info("%s imported %s: %d of %d rows, %d errors", actor.username, upload.filename,
             report.imported, report.rows_read, len(report.errors))
    status = 200 if report.ok else 503 if report.save_failed else 400
    response = _render(status, report=report, filename=upload.filename)
    remember_position(response, report.position)
    return response
