"""Documents (issue 16 item 6) over HTTP on the real PostgreSQL store: uploaded once by
SHA-256 (the type read from the content), attached to an entry by its command's
``documents``, recorded in the event's meta, downloaded only through an entry of the
organization by those who may read it, publicly only where the entry and the document
are public, and erased with the personal data of the person they were attached for."""

from __future__ import annotations

import hashlib

from psycopg.sql import SQL

from domain.documents import DEFAULT_MAX_BYTES
from tests.conftest import stored_event_count
from tests.integration.test_personal_data_erasure import admin_token
from tests.support import code, id_number, registration

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01photo of the signed appointment"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR photo of the inspection"
UPLOAD = "/api/v1/documents"


def upload(api, content: bytes, content_type: str = "application/pdf", as_: str = "staff"):
    return api.post(UPLOAD, as_=as_, data=content, content_type=content_type)


def uploaded(api, content: bytes, **kwargs) -> str:
    response = upload(api, content, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["sha256"]


def penalty(number: str, documents: list[dict]) -> dict:
    return {"decision_number": number, "kind": "warning", "legal_basis": "《社会团体登记管理条例》",
            "decision_date": "2024-03-01", "effective_date": "2024-03-01",
            "documents": documents}


def document_url(n: int, sha256: str, public: bool = False) -> str:
    prefix = "/public" if public else "/api/v1"
    return f"{prefix}/organizations/{code(n)}/documents/{sha256}"


def test_an_upload_is_stored_by_its_hash_and_the_event_records_that_hash(api, pg_app):
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    before = stored_event_count(pg_app)
    response = upload(api, PDF, content_type="application/octet-stream")
    assert response.status_code == 201
    assert response.get_json() == {"sha256": hashlib.sha256(PDF).hexdigest(),
                                   "media_type": "application/pdf", "size": len(PDF)}
    assert upload(api, PDF).get_json() == response.get_json()  # stored once
    assert stored_event_count(pg_app) == before  # an upload alone records nothing
    sha256 = response.get_json()["sha256"]

    imposed = api.post(f"{api.org(1)}/penalties", penalty("杨民罚〔2024〕1号", [
        {"sha256": sha256, "name": "行政处罚决定书.pdf", "public": True}]))
    assert imposed.status_code == 201, imposed.get_json()
    events = api.get(f"{api.org(1)}/events").get_json()["events"]
    recorded = next(e for e in events if e["type"] == "PenaltyImposed")
    assert recorded["meta"]["documents"] == [
        {"sha256": sha256, "name": "行政处罚决定书.pdf", "media_type": "application/pdf",
         "size": len(PDF), "public": True, "personal": False}]
    stored = pg_app.documents.find(sha256)
    assert stored.sha256 == hashlib.sha256(pg_app.documents.content(sha256)).hexdigest() \
        == recorded["meta"]["documents"][0]["sha256"]
    # encrypted at rest under the service's key, as the events are
    with pg_app.documents.datastore.transaction(commit=False) as curs:
        curs.execute(SQL("SELECT content FROM {t} WHERE sha256 = %s").format(
            t=pg_app.documents.table), (sha256,))
        at_rest = bytes(curs.fetchone()["content"])
    assert PDF not in at_rest and b"%PDF" not in at_rest and len(at_rest) > len(PDF)
    # the events before documents existed read as they did: no documents key at all
    assert "documents" not in events[0]["meta"]
    # the case file's timeline shows the entry's documents
    timeline = api.get(api.org(1)).get_json()["timeline"]
    assert [e["documents"][0]["sha256"] for e in timeline if e.get("documents")] == [sha256]

    # downloads: whoever may read the organization; outside its scope 403
    for reader in ("staff", "auditor", "org1", "street"):
        got = api.get(document_url(1, sha256), as_=reader)
        assert got.status_code == 200, (reader, got.status_code)
        assert got.data == PDF and got.mimetype == "application/pdf"
        assert got.headers["ETag"] == f'"{sha256}"'
    assert api.get(document_url(1, sha256), as_="other_staff").status_code == 403
    assert api.get(document_url(1, sha256), as_=None).status_code == 401
    # not attached to this organization, or no document at all: 404
    assert api.post("/api/v1/organizations", registration(2)).status_code == 201
    assert api.get(document_url(2, sha256)).status_code == 404
    assert api.get(document_url(1, hashlib.sha256(b"x").hexdigest())).status_code == 404
    assert api.get(document_url(1, "not-a-hash")).status_code == 404


def test_only_pdf_jpeg_and_png_by_their_content_and_within_the_limit(api, pg_app):
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    before = stored_event_count(pg_app)
    for content, content_type in ((b"hello, not a document", "application/pdf"),
                                  (b"GIF89a\x01\x00", "image/png"),
                                  (b"<html>%PDF-</html>", "text/html"), (b"", "image/jpeg")):
        refused = upload(api, content, content_type)
        assert refused.status_code == 415, content
        assert refused.get_json()["error"]["code"] == "unsupported_media_type"
    for content in (JPEG, PNG):
        assert upload(api, content, "application/octet-stream").status_code == 201
    assert upload(api, PNG).get_json()["media_type"] == "image/png"
    too_large = upload(api, b"%PDF-" + b"0" * DEFAULT_MAX_BYTES)
    assert too_large.status_code == 413
    assert too_large.get_json()["error"]["code"] == "document_too_large"
    # who records no entry may not upload: an auditor, an information officer
    assert upload(api, PDF, as_="auditor").status_code == 403
    assert upload(api, PDF, as_="officer").status_code == 403
    assert upload(api, PDF, as_="org1").status_code == 201
    # an entry attaches only stored documents: an unknown hash is refused, nothing recorded
    unknown = api.post(f"{api.org(1)}/penalties", penalty("杨民罚〔2024〕2号", [
        {"sha256": hashlib.sha256(b"never uploaded").hexdigest(), "name": "a.pdf"}]))
    assert unknown.status_code == 422
    assert unknown.get_json()["error"]["field"] == "documents[0].sha256"
    bad = api.post(f"{api.org(1)}/penalties", penalty("杨民罚〔2024〕2号", [
        {"sha256": "abc", "name": "a.pdf"}]))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == \
        "documents[0].sha256"
    # a command that records no case-file entry takes no documents
    token = api.post("/api/v1/account/tokens", {"name": "t", "documents": []})
    assert token.status_code == 400 and token.get_json()["error"]["field"] == "documents"
    assert stored_event_count(pg_app) == before


def test_the_public_downloads_public_documents_of_public_entries_only(api, pg_app):
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    letter, internal, notice = (uploaded(api, PDF), uploaded(api, JPEG),
                                uploaded(api, PNG))
    assert api.post(f"{api.org(1)}/penalties", penalty("杨民罚〔2024〕3号", [
        {"sha256": letter, "name": "处罚决定书.pdf", "public": True},
        {"sha256": internal, "name": "现场照片.jpg"}])).status_code == 201
    # a public document of an entry the disclosure does not show stays private
    assert api.post(f"{api.org(1)}/rectifications", {
        "notice_number": "杨民整〔2024〕1号", "issues": ["账目不清"], "deadline": "2024-06-30",
        "effective_date": "2024-03-01",
        "documents": [{"sha256": notice, "name": "整改通知书.png", "public": True}]}
    ).status_code in (200, 201)
    got = api.client.get(document_url(1, letter, public=True))
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    for sha256 in (internal, notice):
        assert api.client.get(document_url(1, sha256, public=True)).status_code == 404
    assert api.client.get(document_url(2, letter, public=True)).status_code == 404
    page = api.client.get(f"/public/organizations/{code(1)}").get_data(as_text=True)
    assert document_url(1, letter, public=True) in page and "处罚决定书.pdf" in page
    assert internal not in page and notice not in page
    # a personal document is never public
    refused = api.post(f"{api.org(1)}/credit-listings", {
        "list": "abnormal_activity", "reason": "r", "effective_date": "2024-03-01",
        "documents": [{"sha256": internal, "name": "x.jpg", "public": True,
                       "personal": True}]})
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == \
        "documents[0].public"


def test_erasing_a_person_erases_the_documents_attached_as_their_personal_data(api, pg_app):
    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    photo, minutes = uploaded(api, JPEG), uploaded(api, PDF)
    appointed = api.post(f"{api.org(1)}/leaders", {
        "person": {"name": "甄士隐", "id_number": id_number("19500101", 11)},
        "roles": ["legal_representative"], "term_start": "2021-01-01",
        "term_end": "2025-12-31", "effective_date": "2021-01-05",
        "documents": [{"sha256": photo, "name": "身份证复印件.jpg", "personal": True},
                      {"sha256": minutes, "name": "理事会决议.pdf"}]})
    assert appointed.status_code == 201, appointed.get_json()
    person_id = appointed.get_json()["person_id"]
    assert api.get(document_url(1, photo)).status_code == 200
    # its file name, which may name the person, is recorded nowhere (the log keeps what
    # it records for good); the case file calls it a personal document
    recorded = api.get(f"{api.org(1)}/events").get_data(as_text=True)
    assert "身份证复印件" not in recorded and "理事会决议.pdf" in recorded
    api.tokens["admin"] = admin_token(pg_app)
    erased = api.post(f"/api/v1/persons/{person_id}/erasure",
                      {"reason": "data subject's request"}, as_="admin")
    assert erased.status_code == 201, erased.get_json()
    gone = api.get(document_url(1, photo))
    assert gone.status_code == 410 and gone.get_json()["error"]["code"] == "document_erased"
    assert api.get(document_url(1, minutes)).status_code == 200  # not personal: kept
    # the event's record of the hash stays; the content is gone, for good
    events = api.get(f"{api.org(1)}/events").get_json()["events"]
    appointment = next(e for e in events if e["type"] == "LeaderAppointed")
    assert [d["sha256"] for d in appointment["meta"]["documents"]] == [photo, minutes]
    assert pg_app.documents.content(photo) is None and pg_app.documents.find(photo).erased
    assert upload(api, JPEG).status_code == 410
    assert api.post(f"{api.org(1)}/interviews", {
        "person_name": "王", "person_role": "秘书长", "topics": ["t"],
        "documents": [{"sha256": photo, "name": "x.jpg"}]}).status_code == 422


def test_a_page_form_uploads_and_attaches_a_file(api, pg_app, monkeypatch):
    """The form of an entry's command takes files (multipart); the case file's timeline
    links them; a file that is no PDF, JPEG or PNG is refused on the form, nothing
    recorded."""
    import io

    from tests.e2e.test_pages import csrf, sign_in

    assert api.post("/api/v1/organizations", registration(1)).status_code == 201
    client = api.client.application.test_client()
    sign_in(client)
    form_url = f"/organizations/{code(1)}/forms/penalties"
    form = client.get(form_url).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'type="file" name="document"' in form
    fields = {"csrf_token": csrf(form), "decision_number": "杨民罚〔2024〕9号",
              "kind": "warning", "legal_basis": "条例第三十条", "decision_date": "2024-03-01",
              "effective_date": "2024-03-01", "document_public": "on"}
    before = stored_event_count(pg_app)
    refused = client.post(form_url, data={**fields, "document": (io.BytesIO(b"plain text"),
                                                                  "决定书.pdf")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400 and stored_event_count(pg_app) == before
    sent = client.post(form_url, data={**fields, "document": (io.BytesIO(PDF), "决定书.pdf")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)
    sha256 = hashlib.sha256(PDF).hexdigest()
    page = client.get(f"/organizations/{code(1)}", headers={"Accept-Language": "zh"})
    html = page.get_data(as_text=True)
    assert f"/api/v1/organizations/{code(1)}/documents/{sha256}" in html and "决定书.pdf" in html
    assert client.get(document_url(1, sha256)).data == PDF  # the session may download it
    assert api.client.get(document_url(1, sha256, public=True)).status_code == 200
    # over the limit (here made small): said on a page, nothing recorded
    monkeypatch.setitem(pg_app.env, "DOCUMENT_MAX_BYTES", "1000")
    before = stored_event_count(pg_app)
    large = client.post(form_url, data={**fields, "document": (
        io.BytesIO(b"%PDF-" + b"0" * 300_000), "大.pdf")}, content_type="multipart/form-data")
    assert large.status_code == 413 and "文件超过了附件的大小限制" in large.get_data(as_text=True)
    assert stored_event_count(pg_app) == before
    # a form of a command that records no entry has no file field
    assert 'type="file"' not in client.get("/forms/warnings").get_data(as_text=True)
