"""Documents (issue 16 item 6) without a database: the type from the content's first
bytes, the size limit, the meta that records them (written only when present, so the
events before them and their audit hashes read as before), and the use cases on the
in-memory store."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from domain.documents import (DocumentErased, DocumentTooLarge, UnsupportedDocumentType,
                              attachment, check_upload, media_type_of)
from domain.errors import RuleViolation
from domain.meta import Meta
from tests.conftest import meta
from tests.unit.test_rule_parameters import make_transcoder

PDF, JPEG, PNG = b"%PDF-1.7 x", b"\xff\xd8\xff\xdb x", b"\x89PNG\r\n\x1a\n x"


def test_the_type_is_read_from_the_first_bytes_only():
    assert [media_type_of(c) for c in (PDF, JPEG, PNG)] == [
        "application/pdf", "image/jpeg", "image/png"]
    for content in (b"", b"%PDF", b" %PDF-1.7", b"GIF89a", b"\xff\xd8", b"PK\x03\x04",
                    b"<svg/>", b"\x89PNG\r\n"):
        assert media_type_of(content) is None
        with pytest.raises(UnsupportedDocumentType):
            check_upload(content, 100)
    assert check_upload(PDF, len(PDF)) == (hashlib.sha256(PDF).hexdigest(), "application/pdf")
    with pytest.raises(DocumentTooLarge):
        check_upload(PDF, len(PDF) - 1)


def test_meta_without_documents_reads_and_writes_as_before():
    old = {"actor_id": "a", "actor_role": "system", "effective_date": "2024-01-01",
           "correlation_id": "c", "reason": None, "reference": None, "imported": False}
    assert Meta.from_dict(old).documents == ()
    assert Meta.from_dict(old).as_dict() == old  # the audit trail's canonical form
    transcoder = make_transcoder()
    assert b"documents" not in transcoder.encode(Meta.from_dict(old))
    document = {"sha256": hashlib.sha256(PDF).hexdigest(), "name": "决定书.pdf",
                "media_type": "application/pdf", "size": len(PDF), "public": True,
                "personal": False}
    attached = replace(Meta.from_dict(old), documents=(document,))
    assert transcoder.decode(transcoder.encode(attached)) == attached
    assert attached.as_dict()["documents"] == [document]
    assert Meta.from_dict(attached.as_dict()) == attached


def test_stored_once_attached_by_hash_and_erased(memory_app):
    stored = memory_app.store_document(PDF)
    assert memory_app.store_document(PDF) == stored  # once, by its hash
    assert (stored.sha256, stored.media_type, stored.size) == (
        hashlib.sha256(PDF).hexdigest(), "application/pdf", len(PDF))
    assert memory_app.attachments([{"sha256": stored.sha256, "name": "a.pdf"}]) == (
        attachment(stored, "a.pdf", False, False),)
    with pytest.raises(RuleViolation) as unknown:
        memory_app.attachments([{"sha256": "0" * 64, "name": "a.pdf"}])
    assert unknown.value.field == "documents[0].sha256"
    with pytest.raises(RuleViolation):
        memory_app.attachments([{"sha256": stored.sha256, "name": "a.pdf", "public": True,
                                 "personal": True}])
    memory_app.documents.erase([stored.sha256])
    with pytest.raises(DocumentErased):
        memory_app.document_content(stored.sha256)
    with pytest.raises(DocumentErased):
        memory_app.store_document(PDF)  # erased content does not come back
    with pytest.raises(RuleViolation):
        memory_app.attachments([{"sha256": stored.sha256, "name": "a.pdf"}])
    assert meta().documents == ()
