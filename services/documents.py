"""Documents (issue 16 item 6): stored once by SHA-256 (``documents``, the DocumentStore
port), attached to a case-file entry through its command's meta (Meta.documents), read
back only through an entry that holds them, and erased with a person's personal data
where they were attached as such."""

from __future__ import annotations

from typing import Any, Iterable
from uuid import UUID

from domain.documents import (DEFAULT_MAX_BYTES, PUBLIC_ENTRIES, DocumentErased,
                              StoredDocument, attachment, check_upload)
from domain.errors import NotFound, RuleViolation
from services.errors import OrganizationNotFound
from services.ports import DocumentStore


class DocumentUseCases:
    documents: DocumentStore
    env: Any

    @property
    def document_max_bytes(self) -> int:
        """The DOCUMENT_MAX_BYTES setting: the largest document accepted (default 10 MB)."""
        return int(self.env.get("DOCUMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)

    def store_document(self, content: bytes) -> StoredDocument:
        """Store an upload, if it is a PDF, JPEG or PNG by its content and within the size
        limit; records no event (a document counts once an entry attaches it)."""
        sha256, media_type = check_upload(content, self.document_max_bytes)
        stored = self.documents.put(sha256, media_type, content)
        if stored.erased:
            raise DocumentErased("this document was erased with a person's personal data",
                                 rule="document_erased")
        return stored

    def attachments(self, requested: Iterable[dict]) -> tuple[dict, ...]:
        """The documents a command attaches, as its event's meta records them: each must
        be stored (uploaded first) and not erased; a personal one is never public."""
        found = []
        for i, item in enumerate(requested):
            field = f"documents[{i}]"
            stored = self.documents.find(item["sha256"])
            if stored is None or stored.erased:
                raise RuleViolation(f"{field}.sha256: no such document is stored (upload it "
                                    "first: POST /api/v1/documents)", rule="unknown_document",
                                    field=f"{field}.sha256")
            public, personal = item.get("public", False), item.get("personal", False)
            if public and personal:
                raise RuleViolation(f"{field}: a personal document cannot be public",
                                    rule="personal_document_public", field=f"{field}.public")
            found.append(attachment(stored, item["name"], public, personal))
        return tuple(found)

    def attached_document(self, identifier: str, sha256: str, *,
                          public: bool = False) -> tuple[dict, Any]:
        """A document attached to one of the organization's entries (the first that
        holds it) and that entry's event; ``public``: only a public document of an entry
        the public disclosure shows (domain.documents.PUBLIC_ENTRIES). NotFound if none."""
        for event in self.organization_history(identifier):  # type: ignore[attr-defined]
            for document in event.meta.documents:
                if document["sha256"] != sha256:
                    continue
                if public and not (document.get("public")
                                   and type(event).__name__ in PUBLIC_ENTRIES):
                    continue
                return document, event
        raise NotFound(f"no document {sha256} is attached to {identifier}"
                       + ("'s public entries" if public else ""),
                       field="sha256")

    def public_documents(self, identifier: str) -> list[dict]:
        """The documents the public may download: those marked public of the entries
        the public disclosure shows, with the entry's type and date, oldest first."""
        return [{**document, "entry": type(event).__name__,
                 "effective_date": event.meta.effective_date.isoformat()}
                for event in self.organization_history(identifier)  # type: ignore[attr-defined]
                if type(event).__name__ in PUBLIC_ENTRIES
                for document in event.meta.documents if document.get("public")]

    def document_content(self, sha256: str) -> bytes:
        """The stored content; DocumentErased once it was erased."""
        content = self.documents.content(sha256)
        if content is None:
            raise DocumentErased("this document was erased with a person's personal data",
                                 rule="document_erased")
        return content

    def personal_documents(self, person: Any) -> set[str]:
        """The documents attached as this person's personal data: marked personal on a
        command about them, that is on an event of the person (an appointment records one
        there too) or on an event of an organization they served that names them."""
        hashes = {document["sha256"]
                  for event in self.events.get(person.id)  # type: ignore[attr-defined]
                  for document in event.meta.documents if document.get("personal")}
        for identifier in sorted(person.organizations_served):
            try:
                history = self.organization_history(identifier)  # type: ignore[attr-defined]
            except OrganizationNotFound:
                continue
            hashes.update(document["sha256"] for event in history
                          if getattr(event, "person_id", None) == str(person.id)
                          for document in event.meta.documents if document.get("personal"))
        return hashes
