"""How the domain's values are written as JSON: dates, the meta of every event, and the
personal values (domain.personal) in the read models' plain form."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import (DatetimeAsISO, DecimalAsStr, JSONTranscoder,
                                       Transcoding, UUIDAsHex)

from domain.meta import Meta
from domain.personal import PLAIN_TYPES, PersonalDate, PersonalText, personal


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MetaAsDict(Transcoding):
    type = Meta
    name = "meta"

    def encode(self, obj: Meta) -> dict:
        encoded = {"actor_id": obj.actor_id, "actor_role": obj.actor_role,
                   "effective_date": obj.effective_date, "correlation_id": obj.correlation_id,
                   "reason": obj.reason, "reference": obj.reference, "imported": obj.imported}
        if obj.rules:  # omitted when empty: the events stored before it read the same
            encoded["rules"] = list(obj.rules)
        if obj.demo:  # omitted unless demo data, likewise
            encoded["demo"] = True
        if obj.documents:  # omitted unless documents are attached, likewise
            encoded["documents"] = [dict(document) for document in obj.documents]
        return encoded

    def decode(self, data: dict) -> Meta:
        if "rules" in data:
            data = {**data, "rules": tuple(data["rules"])}
        if "documents" in data:
            data = {**data, "documents": tuple(data["documents"])}
        return Meta(**data)


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    transcoder.register(MetaAsDict())


class PersonalAwareJSONTranscoder(JSONTranscoder):
    """A JSON transcoder that keeps personal values (domain.personal) as what they are.
    ``str`` subclasses never reach a transcoding (JSON writes them as strings), so they
    are converted before the encoding, here as a tagged plain form (the read models'
    states: they are scrubbed when the erasure is projected); the event store's
    SealingJSONTranscoder seals them instead."""

    personal_name = "personal_plain"

    def __init__(self) -> None:
        super().__init__()
        self.register(PersonalAsPlain())

    def encode(self, obj: Any) -> bytes:
        return super().encode(self._convert(obj))

    def _convert(self, o: Any) -> Any:
        t = type(o)
        if t is dict or t is list or t is tuple:  # a copy only where something changes
            new = None
            for key, v in (o.items() if t is dict else enumerate(o)):
                if type(v) in PLAIN_TYPES:  # (most values: no call for them)
                    continue
                w = self._convert(v)
                if w is not v:
                    if new is None:
                        new = dict(o) if t is dict else list(o)
                    new[key] = w
            return o if new is None else new
        if t is PersonalText or t is PersonalDate:
            return {"_type_": self.personal_name, "_data_": self.personal_form(o)}
        return o

    def personal_form(self, value: Any) -> dict:
        return PersonalAsPlain().encode(value)


class PersonalAsPlain(Transcoding):
    type = PersonalDate  # (PersonalText never reaches a transcoding; see above)
    name = "personal_plain"

    def encode(self, obj: Any) -> dict:
        if isinstance(obj, date):
            return {"p": obj.owner, "d": obj.isoformat()}
        return {"p": obj.owner, "v": str(obj), "e": 1 if obj.erased else 0}

    def decode(self, data: dict) -> Any:
        if "d" in data:
            return personal(data["p"], date.fromisoformat(data["d"]))
        return PersonalText(data["v"], data["p"], erased=bool(data.get("e")))


def make_transcoder() -> JSONTranscoder:
    """The transcoder of the read models that keep aggregate states: like the event
    store's, but personal values are kept in plain (tagged) form, not sealed."""
    transcoder = PersonalAwareJSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO(),
                        MetaAsDict()):
        transcoder.register(transcoding)
    return transcoder
