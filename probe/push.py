"""Merging stores: ``qamtu db push --from laptop.db --to postgresql://...`` (or SQLite to SQLite).

Then every merge step other packages registered with the store runs (:func:`qamtu.store.merge_steps`;
the reports package copies inspection records: new ones added, identical ones skipped, a known id
with other content rejected and listed). This module never touches another package's tables.

For each session of the source, in two passes:

1. the session's whole hash chain is checked in the source; a broken chain rejects the session
   (nothing of it is copied) and the report names the first bad record;
2. its records are copied in ``seq`` order, in batches, each batch one transaction. A record whose
   id the target already holds with the same hash is *skipped*; one whose id (or place in the
   session) the target holds with other content is *rejected* and listed, never overwritten, and the
   rest of that session is rejected with it (it would no longer chain). Projection rows are derived
   again from the payloads, never copied.

So a push is idempotent (a second one adds nothing), resumable (an interrupted one left whole
batches; the next one skips them), and safe to run from many laptops at once (the target's unique
keys decide races; the loser sees the winner's identical record and skips it).
"""

from __future__ import annotations

import orjson
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from ..store import Store as BaseStore
from ..store import MergeResult, StoreError, UniqueViolation, ValueRejected, merge_steps, open_store
from ..store.chain import GENESIS, record_hash
from .aggregates import NewSamples, add_new_samples
from .schema import PROJECTIONS
from .store import SampleStore, projection, sample_store

BATCH = 2000
#: Payload bytes of one session that the chain check keeps in memory for the copy, so that it is
#: read from the source once (about twice that in process memory); a longer session is read twice.
KEEP_BYTES = 128 * 2**20
#: Notes per session the report lists in full (projection values left out); the rest are counted.
MAX_NOTES = 20
RECORD_COLUMNS = ("record_id", "session_id", "seq", "kind", "time_utc", "payload", "prev_hash", "hash")
SESSION_COLUMNS = ("session_id", "started_utc", "ended_utc", "status", "inspector", "inspection_id", "host",
                   "qamtu_version", "meta")
IMMUTABLE_SESSION = ("started_utc", "inspector", "inspection_id", "host", "qamtu_version", "meta")

Batch = tuple[list[tuple], dict]


class MalformedRecord(StoreError):
    """A chained record whose payload is not a record of its kind (not JSON, a list, missing fields)."""

    def __init__(self, seq: int, record_id: str, kind: str, why: str) -> None:
        self.seq, self.record_id = seq, record_id
        super().__init__(f"record {seq} ({record_id}): payload is not a valid {kind} record ({why})")


@dataclass
class SessionPush:
    """What happened to one session."""

    session_id: str
    records: int = 0
    added: int = 0
    skipped: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    status: str = "accepted"  # accepted | rejected
    reason: Optional[str] = None
    #: records whose projection left values out (operator code not digits, identifier too large)
    notes: list[dict[str, Any]] = field(default_factory=list)
    noted: int = 0

    @property
    def rejected_count(self) -> int:
        """Records rejected (an entry stands for ``count`` records where it has one)."""
        return sum(int(r.get("count", 1)) for r in self.rejected)

    def as_dict(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "status": self.status, "reason": self.reason, "records": self.records,
                "added": self.added, "skipped": self.skipped, "rejected": self.rejected_count,
                "rejected_records": self.rejected, "notes": self.notes, "noted_records": self.noted}


@dataclass
class PushReport:
    source: str
    target: str
    sessions: list[SessionPush] = field(default_factory=list)
    #: merge step name (``inspections``) -> what the owner's step did (qamtu.store.merge_steps)
    merged: dict[str, MergeResult] = field(default_factory=dict)

    @property
    def added(self) -> int:
        return sum(s.added for s in self.sessions)

    @property
    def skipped(self) -> int:
        return sum(s.skipped for s in self.sessions)

    @property
    def rejected(self) -> int:
        return sum(s.rejected_count for s in self.sessions)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "added": self.added, "skipped": self.skipped,
                "rejected": self.rejected, "sessions": [s.as_dict() for s in self.sessions],
                "merged": {name: r.as_dict() for name, r in self.merged.items()}}


def _rows(store: BaseStore, session_id: str, batch: int = BATCH, after: int = 0) -> Iterator[list[tuple]]:
    """The session's records with seq > ``after`` in order, in lists of ``batch`` (keyset paging)."""
    last = after
    while True:
        rows = store.rows("SELECT record_id, session_id, seq, kind, time_utc, payload, prev_hash, hash FROM records "
                          "WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?", (session_id, last, batch))
        if not rows:
            return
        yield rows
        last = rows[-1][2]


def _after(kept: list[Batch], after: int) -> Iterator[Batch]:
    """The kept batches without their records of seq <= ``after``."""
    for rows, projections in kept:
        if rows[-1][2] <= after:
            continue
        if rows[0][2] > after:
            yield rows, projections
            continue
        rows = [r for r in rows if r[2] > after]
        keep = {r[0] for r in rows}
        yield rows, {t: (c, [v for v in vals if v[0] in keep]) for t, (c, vals) in projections.items()}


def _prepared(store: SampleStore, session_id: str, batch: int, after: int = 0,
              kept: Optional[list[Batch]] = None) -> Iterator[Batch]:
    """(rows, projection rows) per batch, from ``kept`` (what the chain check read and projected) or the
    store. For a SQLite source a second thread reads and projects the next batch on a read-only
    connection of its own while this one waits for the target: the CPU work of one overlaps the
    database work of the other."""
    if kept is not None:
        yield from _after(kept, after)
        return
    if store.engine != "sqlite":
        for rows in _rows(store.db, session_id, batch, after):
            yield rows, _projection_rows(rows)
        return
    import queue
    import threading

    out: "queue.Queue" = queue.Queue(maxsize=2)
    stop = threading.Event()

    def read() -> None:
        try:
            with open_store(store.location, read_only=True) as reader:
                for rows in _rows(reader, session_id, batch, after):
                    if stop.is_set():
                        return
                    out.put((rows, _projection_rows(rows, None)))
            out.put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            out.put(exc)

    worker = threading.Thread(target=read, name="push-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = out.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a reader waiting on a full queue
            try:
                out.get(timeout=0.1)
            except queue.Empty:
                pass


def _check_chain(store: SampleStore, session_id: str, keep_bytes: int = 0,
                 report: Optional["SessionPush"] = None, batch: int = BATCH,
                 after: int = 0) -> tuple[Optional[str], Optional[list[Batch]]]:
    """(None, batches) if the source chain is whole and every payload after record ``after`` is a
    record of its kind, else (why not, naming the record, None). Nothing is written before this pass
    has read the whole session.

    ``batches`` are the (rows, projection rows) of the records after ``after`` (those the target does
    not hold yet: only they are projected), kept while their payloads total at most ``keep_bytes``;
    None when the session is longer. Projection notes go to ``report``."""
    prev, expected = GENESIS, 1
    kept: Optional[list[Batch]] = []
    size = 0
    for rows in _rows(store.db, session_id, batch):
        for rid, sid, seq, kind, t, payload, prev_hash, h in rows:
            if seq != expected:
                return f"record {seq}: sequence jumps from {expected - 1} to {seq} (records missing)", None
            if prev_hash != prev or record_hash(sid, seq, rid, kind, t, prev_hash, payload) != h:
                return f"record {seq} ({rid}): content does not match the hash chain", None
            prev, expected = h, expected + 1
            if seq > after:
                size += len(payload)
        if rows[-1][2] <= after:   # the target holds these already: checked, not projected
            continue
        if rows[0][2] <= after:
            rows = [r for r in rows if r[2] > after]
        try:
            projections = _projection_rows(rows, report)
        except MalformedRecord as exc:
            return str(exc), None
        if kept is not None and size <= keep_bytes:
            kept.append((rows, projections))
        else:
            kept = None
    return None, kept


def _common_prefix(source: SampleStore, target: SampleStore, session_id: str) -> int:
    """How many leading records of the session the target already holds, identical to the source's.

    The hash of record n covers every record before it, so equal hashes at the target's last seq
    mean the whole prefix is the same: a repeated or resumed push need not read it again."""
    last = target.rows("SELECT seq, hash FROM records WHERE session_id = ? ORDER BY seq DESC LIMIT 1", (session_id,))
    if not last:
        return 0
    seq, h = last[0]
    mine = source.scalar("SELECT hash FROM records WHERE session_id = ? AND seq = ?", (session_id, seq))
    return int(seq) if mine == h else 0


def _session_row(store: SampleStore, session_id: str) -> Optional[dict[str, Any]]:
    rows = store.query(f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions WHERE session_id = ?", (session_id,))
    return rows[0] if rows else None


def _existing(target: SampleStore, session_id: str, lo: int, hi: int) -> dict[int, tuple[str, str]]:
    """seq -> (record_id, hash) the target holds for this session in [lo, hi]."""
    return {seq: (rid, h) for rid, seq, h in target.rows(
        "SELECT record_id, seq, hash FROM records WHERE session_id = ? AND seq BETWEEN ? AND ?", (session_id, lo, hi))}


def _by_ids(target, ids: list[str]) -> dict[str, tuple]:
    """record_id -> (session_id, seq, hash) for those of ``ids`` the target holds (a store or a transaction)."""
    out = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ", ".join("?" * len(chunk))
        for rid, sid, seq, h in target.rows(f"SELECT record_id, session_id, seq, hash FROM records "
                                            f"WHERE record_id IN ({marks})", tuple(chunk)):
            out[rid] = (sid, seq, h)
    return out


_INSERT_RECORDS = (f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))}) "
                   "ON CONFLICT DO NOTHING")


def _insert_batch(target: SampleStore, rows: list[tuple], projections: Optional[dict] = None) -> set[str]:
    """Insert records and their projections in one transaction; returns the ids actually inserted."""
    if projections is None:
        projections = _projection_rows(rows, None)
    if target.engine == "postgresql":
        return _insert_batch_pg(target, rows, projections)
    with target.transaction(f"adding {len(rows)} records") as tx:
        have = _by_ids(tx, [r[0] for r in rows])
        new = [r for r in rows if r[0] not in have]
        tx.executemany(_INSERT_RECORDS, new)
        done = _by_ids(tx, [r[0] for r in new])
        new = [r for r in new if r[0] in done and done[r[0]][2] == r[7]]
        ids = {r[0] for r in new}
        for table, (cols, values) in projections.items():
            tx.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                           [v for v in values if v[0] in ids])
        _aggregate(tx, target.engine, new, projections, ids)
    return ids


def _new_samples(engine: str, rows: list[tuple], projections: dict,
                 inserted: Optional[set[str]] = None) -> Optional[NewSamples]:
    """The samples among ``rows`` (records of one batch) that this transaction inserted
    (all of them, or those in ``inserted``), as a :class:`NewSamples` condition; None when there are none.

    When the inserted records are every record ``first``..``last`` of one session, the range names
    them (the ``samples_session`` index serves it); otherwise their ids do."""
    if "samples" not in projections:
        return None
    if inserted is not None:
        rows = [r for r in rows if r[0] in inserted]
    if not rows or not projections["samples"][1]:
        return None
    sid, seqs = rows[0][1], {r[2] for r in rows}
    if max(seqs) - min(seqs) + 1 == len(seqs) == len(rows) and all(r[1] == sid for r in rows):
        return NewSamples.seq_range(sid, min(seqs), max(seqs))
    ids = {r[0] for r in rows}
    return NewSamples.ids(engine, [v[0] for v in projections["samples"][1] if v[0] in ids])


def _aggregate(tx, engine: str, rows: list[tuple], projections: dict, inserted: Optional[set[str]] = None) -> None:
    """Add the samples of ``rows`` this transaction inserted (all, or those in ``inserted``) to the daily
    aggregates, in that transaction ``tx``: the database groups them (:func:`~.aggregates.add_new_samples`)."""
    new = _new_samples(engine, rows, projections, inserted)
    if new is not None:
        add_new_samples(tx, engine, new)


def _projection_rows(rows: list[tuple],
                     report: Optional["SessionPush"] = None) -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    """table -> (columns, rows) of the projections of ``rows``, derived from their payloads.

    Raises :class:`MalformedRecord` naming the first record whose payload is not a record of its kind."""
    out: dict[str, tuple[tuple[str, ...], list[tuple]]] = {}
    notes: list[str] = []
    for rid, sid, seq, kind, t, payload, _prev, _h in rows:
        try:
            table, columns = PROJECTIONS[kind]
            dumped = orjson.loads(payload)
            if not isinstance(dumped, dict):
                raise TypeError(f"JSON {type(dumped).__name__}, not an object")
            values = projection(kind, dumped, notes)  # in column order (a test holds it to that)
        except Exception as exc:  # any shape of bad payload: named, never a traceback
            raise MalformedRecord(seq, rid, kind, f"{type(exc).__name__}: {str(exc)[:120]}") from None
        if notes:  # values left out: said in the report (computed in the same pass as the projection)
            if report is not None:
                for note in notes:
                    report.noted += 1
                    if len(report.notes) < MAX_NOTES:
                        report.notes.append({"record_id": rid, "seq": seq, "note": note})
            notes.clear()
        cols = ("record_id", "session_id", "seq", "time_utc", *columns)
        out.setdefault(table, (cols, []))[1].append((rid, sid, seq, t, *values.values()))
    return out


def _insert_batch_pg(target: SampleStore, rows: list[tuple], projections: dict) -> set[str]:
    """COPY straight into the tables (the common case: nothing of the batch is there yet); if another
    pusher got there first, a unique key stops the COPY and the batch goes the careful way.

    The COPY is binary, typed by the target's own columns. A payload of a chained record may hold a
    value of another type than its model's (a text where a number was expected): the binary
    encoder refuses it, and the batch is copied again as text, which the columns' input parse."""
    for binary in (True, False):
        types = target.column_types if binary else (lambda table, cols: None)
        record_types = types("records", RECORD_COLUMNS)
        table_types = {table: types(table, cols) for table, (cols, _) in projections.items()}
        try:
            with target.transaction(f"copying {len(rows)} records") as tx:
                tx.copy("records", RECORD_COLUMNS, rows, record_types)
                for table, (cols, values) in projections.items():
                    tx.copy(table, cols, values, table_types[table])
                _aggregate(tx, target.engine, rows, projections)
            return {r[0] for r in rows}
        except UniqueViolation:
            break
        except ValueRejected:
            if not binary:
                raise
    with target.transaction(f"adding {len(rows)} records one by one") as tx:
        tx.execute("CREATE TEMP TABLE IF NOT EXISTS push_records (LIKE records) ON COMMIT DELETE ROWS")
        tx.copy("push_records", RECORD_COLUMNS, rows)
        inserted = {r[0] for r in tx.rows(f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) "
                                          f"SELECT {', '.join(RECORD_COLUMNS)} FROM push_records "
                                          "ON CONFLICT DO NOTHING RETURNING record_id")}
        for table, (cols, values) in projections.items():
            tx.copy(table, cols, [v for v in values if v[0] in inserted])
        _aggregate(tx, target.engine, rows, projections, inserted)
    return inserted


def _ensure_session(target: SampleStore, row: dict[str, Any], report: SessionPush) -> bool:
    """Create the session row in the target, or check that the one there is the same session."""
    cols = ", ".join(SESSION_COLUMNS)
    # a new session arrives open; it is closed below once its records are in
    values = tuple(row[c] if c not in ("status", "ended_utc") else (None if c == "ended_utc" else "open")
                   for c in SESSION_COLUMNS)
    target.execute(f"INSERT INTO sessions ({cols}) VALUES ({', '.join('?' * len(SESSION_COLUMNS))}) "
                   "ON CONFLICT DO NOTHING", values, f"creating session {row['session_id']}")
    there = _session_row(target, row["session_id"])
    if there is None:  # inserted or already there just above: only a concurrent delete can get here
        raise StoreError(f"{target.label}: session {row['session_id']} is missing right after it was written; "
                         "is another program deleting sessions? Push again")
    differs = [c for c in IMMUTABLE_SESSION if there[c] != row[c]]
    if differs:
        report.status, report.reason = "rejected", (f"the target holds session {row['session_id']} with other "
                                                    f"{', '.join(differs)}")
        return False
    return True


def _push_session(source: SampleStore, target: SampleStore, s: dict[str, Any], batch: int,
                  progress: Callable[[str, int, int], None] | None = None) -> SessionPush:
    """Push one session (see the module docstring); returns what happened to it."""
    sid = s["session_id"]
    sp = SessionPush(sid, records=s["records"])
    # the leading records the target holds already are checked as links of the chain, not projected again
    held = _common_prefix(source, target, sid)
    broken, kept = _check_chain(source, sid, KEEP_BYTES, sp, batch, held)
    if broken:
        malformed = "payload is not a valid" in broken
        sp.status, sp.reason = "rejected", broken if malformed else f"hash chain broken in the source at {broken}"
        sp.rejected = [{"session_id": sid, "count": sp.records, "reason": sp.reason}]
        return sp
    row = _session_row(source, sid)
    if row is None:  # listed by source.sessions() a moment ago
        raise StoreError(f"{source.label}: session {sid} vanished from the source during the push; push again")
    if not _ensure_session(target, row, sp):
        sp.rejected = [{"session_id": sid, "count": sp.records, "reason": sp.reason}]
        return sp
    done = held
    sp.skipped += done
    for rows, projections in _prepared(source, sid, batch, done, kept):
        have = _existing(target, sid, rows[0][2], rows[-1][2])
        clean: list[tuple] = []
        conflict = None
        for r in rows:
            rid, seq, h = r[0], r[2], r[7]
            if seq in have:
                if have[seq] == (rid, h):
                    sp.skipped += 1
                    continue
                conflict = r, f"the target holds record {seq} of this session as {have[seq][0]} with other content"
                break
            clean.append(r)
        if clean:
            if len(clean) < len(rows):
                keep = {r[0] for r in clean}
                projections = {t: (c, [v for v in vals if v[0] in keep]) for t, (c, vals) in projections.items()}
            inserted = _insert_batch(target, clean, projections)
            sp.added += len(inserted)
            raced = [r for r in clean if r[0] not in inserted]
            if raced:  # another pusher got there first: identical -> skipped, different -> conflict
                now = _by_ids(target, [r[0] for r in raced])
                for r in raced:
                    if now.get(r[0]) == (r[1], r[2], r[7]):
                        sp.skipped += 1
                    else:
                        conflict = r, f"record {r[2]} ({r[0]}) exists in the target with other content"
                        break
        if conflict is not None:
            r, why = conflict
            sp.status, sp.reason = "rejected", why
            sp.rejected.append({"record_id": r[0], "seq": r[2], "reason": why})
            rest = s["records"] - (sp.added + sp.skipped + 1)
            if rest > 0:
                sp.rejected.append({"from_seq": r[2] + 1, "count": rest,
                                    "reason": "follows the conflicting record; would not chain"})
            break
        done += len(rows)
        if progress is not None:
            progress(sid, done, s["records"])
    if sp.status == "accepted" and s["status"] == "closed":
        target.execute("UPDATE sessions SET status = 'closed', ended_utc = ? WHERE session_id = ? AND status = 'open'",
                       (s["ended_utc"], sid), f"closing session {sid}")
    return sp


def _push_in_worker(args: tuple) -> SessionPush:
    """One session in a worker process, on its own connections (the source read-only)."""
    source_db, target_db, s, batch = args
    with sample_store(source_db, read_only=True) as source, sample_store(target_db) as target:
        return _push_session(source, target, s, batch)


def push(source: SampleStore | BaseStore, target: SampleStore | BaseStore, *, batch: int = BATCH, workers: int = 1,
         progress: Callable[[str, int, int], None] | None = None) -> PushReport:
    """Copy every session of ``source`` into ``target`` as described in the module docstring.

    ``workers`` > 1 pushes that many sessions at once, each in its own process with its own
    connections (the target's unique keys keep them apart, as between laptops); ``progress`` is
    then called once per finished session.
    """
    source, target = sample_store(source), sample_store(target)
    if source.label == target.label:
        raise StoreError(f"{source.label}: source and target are the same store")
    report = PushReport(source.label, target.label)
    sessions = sorted(source.sessions(), key=lambda x: x["session_id"])
    if workers > 1 and len(sessions) > 1:
        import multiprocessing

        jobs = [(source.location, target.location, s, batch) for s in sessions]
        with multiprocessing.get_context("spawn").Pool(min(workers, len(sessions))) as pool:
            for sp in pool.imap(_push_in_worker, jobs):
                report.sessions.append(sp)
                if progress is not None:
                    progress(sp.session_id, sp.records, sp.records)
    else:
        for s in sessions:
            report.sessions.append(_push_session(source, target, s, batch, progress))
    for name, step in merge_steps():     # the other owners' tables (reports: inspections), by their own steps
        report.merged[name] = step(source.db, target.db)
    return report
