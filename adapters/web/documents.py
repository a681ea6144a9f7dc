"""Documents over HTTP (issue 16 item 6): the upload, which stores a PDF, JPEG or PNG by
its SHA-256 and records nothing (a command attaches it to an entry by its hash:
``documents`` in the command's meta fields), and the download, which answers a document
only through an organization entry that holds it, to those who may read that
organization (the public download: adapters.web.public)."""

from __future__ import annotations

import logging
from urllib.parse import quote

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge

from adapters.web.openapi import accepts, responds
from adapters.web.requests import authorize, casefiles, current_actor, page
from domain.documents import MEDIA_TYPES, SHA256_RE, DocumentTooLarge
from domain.errors import NotFound

log = logging.getLogger(__name__)

bp = Blueprint("documents", __name__, url_prefix="/api/v1")
BINARY = {"schema": {"type": "string", "format": "binary"}}


@bp.post("/documents")
@accepts({media_type: BINARY for media_type in (*MEDIA_TYPES, "application/octet-stream")})
def upload_document():
    """Upload a document (PDF, JPEG or PNG, the file itself as the body): stored once by
    its SHA-256, which a command's ``documents`` then attaches to an entry. The type is
    read from the content, not the name or Content-Type (anything else: 415); larger
    than DOCUMENT_MAX_BYTES (default 10 MB): 413. Records no event."""
    actor = authorize("attach_document")
    app = casefiles()
    limit = app.document_max_bytes
    request.max_content_length = limit + 1  # a chunked body stops at it: over means over
    try:
        content = request.get_data(cache=False)
    except RequestEntityTooLarge:
        content = None
    if content is None or len(content) > limit:
        raise DocumentTooLarge(f"the document is larger than the limit of {limit} bytes",
                               rule="document_too_large")
    stored = app.store_document(content)
    log.info("%s uploaded document %s (%s, %d bytes)", actor.username, stored.sha256,
             stored.media_type, stored.size)
    response = jsonify(stored.as_dict())
    response.status_code = 201
    return response


def _sha256(value: str) -> str:
    if not SHA256_RE.fullmatch(value):
        raise NotFound(f"no document {value}", field="sha256")
    return value


def document_response(document: dict, content: bytes, *, cache: str):
    """The document's content, as its recorded type, offered for download by its name."""
    response = current_app.response_class(content, content_type=document["media_type"])
    name = document.get("name") or document["sha256"]
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{document['sha256']}\"; filename*=UTF-8''{quote(name)}")
    response.headers["ETag"] = f'"{document["sha256"]}"'
    response.headers["Cache-Control"] = cache
    return response


@bp.get("/organizations/<code>/documents/<sha256>")
@responds(MEDIA_TYPES, "the document, as its type read from its content")
def download_document(code: str, sha256: str):
    """A document attached to one of the organization's entries, for those who may read
    the organization (outside its scope: 403); 404 when no entry of it holds the
    document, 410 once it was erased with a person's personal data."""
    current_actor()
    app = casefiles()
    authorize("read", app.get_organization(code, shared=True))
    document, _event = app.attached_document(code, _sha256(sha256))
    return document_response(document, app.document_content(sha256), cache="no-store")


# ------------------------------------------------------------------ the page forms

def allow_form_uploads() -> None:
    """Before a page form is read: a multipart form may carry documents up to their
    limit (the JSON API's bodies keep theirs)."""
    if request.method == "POST" and request.mimetype == "multipart/form-data":
        request.max_content_length = casefiles().document_max_bytes + 256 * 1024


def form_too_large(error: RequestEntityTooLarge):
    """A page form whose files are over the documents' limit: said on a page."""
    return page("error.html", 413, error={"message": gettext(
        "The file is larger than the size limit for documents.")})


def form_documents(files, form) -> list[dict]:
    """The files a page form attaches (its ``document`` file field), stored like an
    upload, as the command's ``documents``: public or personal as the form's two boxes
    say."""
    chosen = [f for f in files.getlist("document") if f and f.filename]
    if not chosen:
        return []
    authorize("attach_document")
    app = casefiles()
    documents = []
    for upload in chosen:
        stored = app.store_document(upload.read(app.document_max_bytes + 1))
        documents.append({"sha256": stored.sha256, "name": upload.filename[-200:],
                          "public": form.get("document_public") == "on",
                          "personal": form.get("document_personal") == "on"})
    return documents
