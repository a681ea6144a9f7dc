"""Who did it, when it takes effect, and why: carried by every event."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date

ROLES = (
    "registration_staff",     # 登记管理机关
    "supervisory_unit",       # 业务主管单位
    "sub_district_office",    # 街道办事处
    "information_officer",    # 预警网络信息员
    "auditor",                # 审计、纪检
    "organization",           # 社会组织
    "admin",                  # manages accounts
    "system",                 # rules and the clock
)


@dataclass(frozen=True)
class Meta:
    """The command's context, passed in by the caller; the domain never reads a clock."""

    actor_id: str
    actor_role: str
    effective_date: date
    correlation_id: str
    reason: str | None = None
    reference: str | None = None
    imported: bool = False  # back-filled from an earlier register (demo, bulk import)
    # The rule versions the command applied ("major_event_reporting@v2"), in the order
    # applied. Written only when there are some, so the events recorded before it existed
    # (and the audit trail's canonical form and hashes of them) read exactly as they did.
    rules: tuple[str, ...] = ()
    # Demo data (adapters.seed.demo), recorded with a simulated recording clock: shown as
    # such wherever the event is. Written only when true, so real data's events (and
    # their audit hashes) read exactly as they did before it existed.
    demo: bool = False
    # The documents the entry rests on (domain.documents.attachment: SHA-256, name, media
    # type, size, public, personal), so the audit trail proves which documents a decision
    # was based on. Written only when there are some, as ``rules`` and ``demo``.
    documents: tuple[dict, ...] = ()

    def as_dict(self) -> dict:
        # every field is a plain value: no need for asdict()'s recursive deep copy, which
        # cost the relay and the projections about 12 µs an event
        d = {f: getattr(self, f) for f in FIELDS}
        d["effective_date"] = self.effective_date.isoformat()
        if self.rules:
            d["rules"] = list(self.rules)
        if self.demo:
            d["demo"] = True
        if self.documents:
            d["documents"] = [dict(document) for document in self.documents]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Meta":
        d = {**d, "effective_date": date.fromisoformat(d["effective_date"])}
        if "rules" in d:
            d["rules"] = tuple(d["rules"])
        if "documents" in d:
            d["documents"] = tuple(dict(document) for document in d["documents"])
        return cls(**d)

    def applying(self, *rules: str) -> "Meta":
        """This meta, recording that the command also applied these rule versions."""
        if not rules:
            return self
        return replace(self, rules=tuple(dict.fromkeys(self.rules + rules)))


# The fields every meta writes; ``rules`` only when the command applied some, ``demo``
# only on demo data, ``documents`` only when some are attached.
FIELDS = tuple(f.name for f in fields(Meta) if f.name not in ("rules", "demo", "documents"))
