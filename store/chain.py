"""Hash chains that make stored history tamper-evident: canonical JSON and the link hash.

Any package can chain its own append-only history with :func:`canonical_bytes` (or
:func:`canonical_json`) and :func:`link_hash`: each entry stores the previous entry's hash and its
own, ``link_hash(form, *fields, prev_hash, payload)``; the first entry's ``prev_hash`` is
:data:`GENESIS`. ``form`` names the layout and its version (``"qamtu-record-v1"``), so two kinds of
history can never produce the same text.

The probe's records (sessions of samples) use this layout. Every record stores ``prev_hash``,
the SHA-256 of the previous record's canonical form, and ``hash``, the SHA-256 of its own. The
canonical form of a record is the UTF-8 text::

    qamtu-record-v1 \\n session_id \\n seq \\n record_id \\n kind \\n time_utc \\n prev_hash \\n payload

where ``payload`` is the record's JSON exactly as stored (keys sorted, no spaces, UTF-8, see
:func:`canonical_json`). The first record of a session has ``prev_hash`` = 64 zeros. Changing,
inserting, deleting or reordering any record breaks the chain at that record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable, Optional

GENESIS = "0" * 64
FORM = "qamtu-record-v1"


def canonical_json(obj: Any) -> str:
    """JSON text with sorted keys, no insignificant spaces, UTF-8 letters kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_bytes(obj: Any) -> bytes:
    """:func:`canonical_json` as UTF-8 bytes (what a hash or a signature covers)."""
    return canonical_json(obj).encode("utf-8")


def link_hash(form: str, *fields: object) -> str:
    """SHA-256 (hex) of one chain entry: the UTF-8 of ``"\\n".join((form, *fields))``, fields as ``str``.

    Include the previous entry's hash among ``fields`` (the probe puts it before the payload) and
    give payloads as :func:`canonical_json` text, so the hash covers the exact stored bytes."""
    text = "\n".join((form, *(str(f) for f in fields)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(session_id: str, seq: int, record_id: str, kind: str, time_utc: str, prev_hash: str,
                payload: str) -> str:
    """SHA-256 (hex) of a probe record's canonical form (:func:`link_hash` with ``qamtu-record-v1``)."""
    return link_hash(FORM, session_id, seq, record_id, kind, time_utc, prev_hash, payload)


@dataclass(frozen=True)
class ChainReport:
    """Result of checking one session's chain. ``broken_at`` is the first bad record's seq."""

    session_id: str
    records: int
    head_hash: str
    ok: bool
    broken_at: Optional[int] = None
    record_id: Optional[str] = None
    reason: Optional[str] = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def verify_rows(session_id: str, rows: Iterable[tuple]) -> ChainReport:
    """Check rows ``(seq, record_id, kind, time_utc, payload, prev_hash, hash)`` in seq order."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for seq, record_id, kind, time_utc, payload, prev_hash, stored in rows:
        count += 1
        where = dict(session_id=session_id, records=count, head_hash=prev, ok=False, broken_at=seq, record_id=record_id)
        if seq != expected_seq:
            return ChainReport(**where, reason=f"sequence jumps from {expected_seq - 1} to {seq}: records missing")
        if prev_hash != prev:
            return ChainReport(**where, reason="prev_hash does not match the previous record's hash")
        if record_hash(session_id, seq, record_id, kind, time_utc, prev_hash, payload) != stored:
            return ChainReport(**where, reason="record content does not match its hash (altered)")
        prev = stored
        expected_seq += 1
    return ChainReport(session_id=session_id, records=count, head_hash=prev, ok=True)
