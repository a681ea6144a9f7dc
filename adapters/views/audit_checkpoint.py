"""Checkpoints of the audit trail: the verified head, signed, for parties outside the bureau.

The verifier (projections.audit.verify) proves that the trail matches the event log, but
whoever can rewrite both (the database owner) could rewrite history and recompute every
hash. A checkpoint closes that gap: after a successful verification the service exports
the head it verified, ``{position, hash}``, signed with its Ed25519 key. An auditor keeps
the file (or publishes it). Because each entry's hash covers the previous entry's hash, a
later trail that still holds the same hash at the checkpoint's position holds the same
history up to it: history only grew. A rewritten, deleted or reordered entry at or before
the position changes that hash, and the check names the checkpoint it contradicts.

| setting | default | meaning |
|---|---|---|
| AUDIT_SIGNING_KEY | generated into ``var/audit-signing.key`` | Ed25519 private key (base64 of the 32 raw bytes) that signs checkpoints |

The signature is checked with the public key alone (``casefile audit public-key``, and in
each checkpoint): ``casefile audit check FILE`` needs no database.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from datetime import datetime, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from adapters.config import secret_file

FORMAT = "casefile-audit-checkpoint/1"
SIGNED_FIELDS = ("format", "position", "hash", "verified_entries", "verified_at")
HASH_PATTERN = re.compile(r"[0-9a-f]{64}")


class CheckpointError(ValueError):
    """A checkpoint file that is not one: wrong shape, bad signature."""


def signing_key() -> Ed25519PrivateKey:
    raw = os.environ.get("AUDIT_SIGNING_KEY") or secret_file(
        "audit-signing.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode())
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw))


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _signed_bytes(checkpoint: dict) -> bytes:
    fields = {name: checkpoint[name] for name in SIGNED_FIELDS}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def make_checkpoint(verification, key: Ed25519PrivateKey) -> dict:
    """The signed head of a successful verification."""
    if not verification.ok:
        raise CheckpointError("the audit trail did not verify: no checkpoint of a broken "
                              "trail")
    checkpoint = {"format": FORMAT, "position": verification.head_position,
                  "hash": verification.head_hash,
                  "verified_entries": verification.verified,
                  "verified_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    checkpoint["public_key"] = public_key_text(key)
    checkpoint["signature"] = base64.b64encode(key.sign(_signed_bytes(checkpoint))).decode()
    return checkpoint


def parse_checkpoint(text: str) -> dict:
    """A checkpoint read from a file: its shape checked, its signature verified against
    the public key it names (compare that key with the one you trust)."""
    try:
        checkpoint = json.loads(text)
    except ValueError:
        raise CheckpointError("the checkpoint is not JSON") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise CheckpointError(f"the checkpoint is not in the format {FORMAT}")
    for name in SIGNED_FIELDS + ("public_key", "signature"):
        if name not in checkpoint:
            raise CheckpointError(f"the checkpoint has no {name}")
    if not isinstance(checkpoint["position"], int) or checkpoint["position"] < 0:
        raise CheckpointError("the checkpoint's position is not a position")
    if not isinstance(checkpoint["hash"], str) or not HASH_PATTERN.fullmatch(checkpoint["hash"]):
        raise CheckpointError("the checkpoint's hash is not a SHA-256 hex digest")
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint["public_key"]))
        public.verify(base64.b64decode(checkpoint["signature"]), _signed_bytes(checkpoint))
    except (InvalidSignature, ValueError):
        raise CheckpointError("the checkpoint's signature does not match its content") from None
    return checkpoint


def check_against(position: int, expected_hash: str, view, verification) -> dict:
    """Does the current trail still hold ``expected_hash`` at ``position``? The trail
    itself must verify too (a trail that does not is not evidence of anything)."""
    result = {"position": position, "hash": expected_hash, "history_only_grew": False,
              "problem": None}
    if not verification.ok:
        result["problem"] = "the audit trail does not verify (see first_broken)"
    elif position == 0:
        result["history_only_grew"] = True
    elif position > verification.head_position:
        result["problem"] = (f"the trail ends at position {verification.head_position}, "
                             f"before the checkpoint's {position}: entries were removed")
    else:
        entries = view.entries(after=position - 1, up_to=position, limit=1)
        if not entries or entries[0]["position"] != position:
            result["problem"] = (f"the trail has no entry at the checkpoint's position "
                                 f"{position}: history was rewritten")
        elif entries[0]["hash"] != expected_hash:
            result["problem"] = (f"the entry at position {position} has another hash than "
                                 "the checkpoint: history up to it was rewritten")
        else:
            result["history_only_grew"] = True
    return result
