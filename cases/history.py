"""The append-only, hash-chained history of a case.

Each entry is one row of ``cases_history``: ``(case_id, seq, entry_id, kind, time_utc, payload,
prev_hash, hash)``, chained exactly like the probe's sample records (the same canonical form
``qamtu-record-v1``, with the case id in place of the session id, see :mod:`qamtu.probe.chain`).
The payload (canonical JSON) carries ``by`` (who) and, for transitions, ``from``, ``to`` and the
transition's fields. Changing, inserting, deleting or reordering an entry breaks the chain at it;
the table's triggers refuse UPDATE and DELETE outright.

Kinds: ``opened`` (first entry, state registered), ``complaint_joined``, ``transition``,
``extension``, ``answer_issued``, ``inspection_linked``, ``findings``.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable

from ..store.chain import GENESIS, ChainReport, canonical_json, record_hash, verify_rows

KINDS = ("opened", "complaint_joined", "transition", "extension", "answer_issued", "inspection_linked", "findings")


def now_text(now: datetime | None = None) -> str:
    """UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    t = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_row(
    case_id: str, seq: int, prev_hash: str, kind: str, payload: dict[str, Any], now: datetime | None = None
) -> tuple:
    """The row ``(case_id, seq, entry_id, kind, time_utc, payload, prev_hash, hash)`` of a new entry."""
    if kind not in KINDS:
        raise ValueError(f"unknown history kind {kind!r}")
    text = canonical_json(payload)
    t = now_text(now)
    entry_id = str(uuid.uuid4())
    return (
        case_id,
        seq,
        entry_id,
        kind,
        t,
        text,
        prev_hash,
        record_hash(case_id, seq, entry_id, kind, t, prev_hash, text),
    )


INSERT = (
    "INSERT INTO cases_history (case_id, seq, entry_id, kind, time_utc, payload, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT = (
    "SELECT seq, entry_id, kind, time_utc, payload, prev_hash, hash FROM cases_history "
    "WHERE case_id = ? ORDER BY seq"
)


def head(rows: list[dict[str, Any]]) -> tuple[int, str]:
    """(last seq, last hash) of a case's rows, (0, GENESIS) for none."""
    if not rows:
        return 0, GENESIS
    last = max(rows, key=lambda r: int(r["seq"]))
    return int(last["seq"]), str(last["hash"])


def decode(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """History rows as dicts with the payload parsed."""
    return [
        {
            "seq": int(r["seq"]),
            "entry_id": r["entry_id"],
            "kind": r["kind"],
            "time_utc": r["time_utc"],
            "payload": json.loads(r["payload"]),
            "hash": r["hash"],
        }
        for r in rows
    ]


def verify(case_id: str, rows: list[dict[str, Any]]) -> ChainReport:
    return verify_rows(
        case_id,
        [
            (int(r["seq"]), r["entry_id"], r["kind"], r["time_utc"], r["payload"], r["prev_hash"], r["hash"])
            for r in rows
        ],
    )
