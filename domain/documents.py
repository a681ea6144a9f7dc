"""Documents a case-file entry rests on (a penalty's decision letter, a rectification
notice, an annual report's sealed cover page, an inspection's photos): PDF, JPEG or PNG,
known by the SHA-256 of their content. The type is read from the content's first bytes,
never from a file name or a header; an event records each attached document's hash,
name, type and size in its meta (domain.meta.Meta.documents)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError

# The signatures (magic bytes) of the accepted types.
SIGNATURES = (("application/pdf", b"%PDF-"),
              ("image/jpeg", b"\xff\xd8\xff"),
              ("image/png", b"\x89PNG\r\n\x1a\n"))
MEDIA_TYPES = tuple(t for t, _ in SIGNATURES)
SHA256_RE = re.compile(r"[0-9a-f]{64}")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# The entries the public disclosure shows (projections.documents.public_document): only
# a public document of one of these may be downloaded by the public.
PUBLIC_ENTRIES = frozenset({"PenaltyImposed", "PenaltyRescinded", "CreditListed",
                            "CreditListingRemoved", "AnnualInspectionConcluded",
                            "AnnualInspectionCorrected"})


class UnsupportedDocumentType(DomainError):
    """The content is not a PDF, JPEG or PNG."""


class DocumentTooLarge(DomainError):
    """The content is over the size limit (the DOCUMENT_MAX_BYTES setting)."""


class DocumentErased(DomainError):
    """The document's content was erased with a person's personal data."""


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    media_type: str
    size: int
    created_at: datetime | None = None
    erased: bool = False

    def as_dict(self) -> dict:
        return {"sha256": self.sha256, "media_type": self.media_type, "size": self.size}


def media_type_of(content: bytes) -> str | None:
    """The type by the content's signature, or None when it is none of the accepted."""
    for media_type, signature in SIGNATURES:
        if content.startswith(signature):
            return media_type
    return None


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def check_upload(content: bytes, max_bytes: int) -> tuple[str, str]:
    """The content's (SHA-256, media type), if it may be stored."""
    if len(content) > max_bytes:
        raise DocumentTooLarge(f"the document is larger than the limit of {max_bytes} bytes",
                               rule="document_too_large")
    media_type = media_type_of(content)
    if media_type is None:
        raise UnsupportedDocumentType("the content is not a PDF, JPEG or PNG file (read "
                                      "from its first bytes)", rule="unsupported_media_type")
    return sha256_of(content), media_type


def attachment(stored: StoredDocument, name: str, public: bool, personal: bool) -> dict:
    """A document as an event's meta records it. A personal document's file name is not
    recorded ("" instead): it may name the person ("张三身份证.jpg"), and the event log,
    which is never rewritten, would keep it after the person's data is erased."""
    return {"sha256": stored.sha256, "name": "" if personal else name,
            "media_type": stored.media_type, "size": stored.size, "public": public,
            "personal": personal}
