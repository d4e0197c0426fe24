"""Merging stores: ``qamtu db push --from laptop.db --to postgresql://...`` (or SQLite to SQLite).

Inspection records (``qamtu inspection new``) are copied too: new ones added, identical ones
skipped, a known id with other content rejected and listed.

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

from .chain import GENESIS, record_hash
from .migrations import PROJECTIONS
from .store import Store, StoreError, projection

BATCH = 2000
#: Payload bytes of one session that the chain check keeps in memory for the copy, so that it is
#: read from the source once (about twice that in process memory); a longer session is read twice.
KEEP_BYTES = 128 * 2**20
RECORD_COLUMNS = ("record_id", "session_id", "seq", "kind", "time_utc", "payload", "prev_hash", "hash")
SESSION_COLUMNS = ("session_id", "started_utc", "ended_utc", "status", "inspector", "inspection_id", "host",
                   "qamtu_version", "meta")
IMMUTABLE_SESSION = ("started_utc", "inspector", "inspection_id", "host", "qamtu_version", "meta")


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

    @property
    def rejected_count(self) -> int:
        """Records rejected (an entry stands for ``count`` records where it has one)."""
        return sum(int(r.get("count", 1)) for r in self.rejected)

    def as_dict(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "status": self.status, "reason": self.reason, "records": self.records,
                "added": self.added, "skipped": self.skipped, "rejected": self.rejected_count,
                "rejected_records": self.rejected}


@dataclass
class PushReport:
    source: str
    target: str
    sessions: list[SessionPush] = field(default_factory=list)
    inspections: dict[str, Any] = field(default_factory=lambda: {"added": 0, "skipped": 0, "rejected": []})

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
                "inspections": self.inspections}


def _rows(store: Store, session_id: str, batch: int = BATCH, after: int = 0) -> Iterator[list[tuple]]:
    """The session's records with seq > ``after`` in order, in lists of ``batch`` (keyset paging)."""
    last = after
    while True:
        rows = store._raw("SELECT record_id, session_id, seq, kind, time_utc, payload, prev_hash, hash FROM records "
                          "WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?", (session_id, last, batch)).fetchall()
        if not rows:
            return
        yield rows  # both drivers give a list of tuples
        last = rows[-1][2]


def _rebatch(kept: list[list[tuple]], batch: int, after: int) -> Iterator[list[tuple]]:
    """The kept rows with seq > ``after``, in lists of ``batch``."""
    out: list[tuple] = []
    for rows in kept:
        for r in rows:
            if r[2] > after:
                out.append(r)
                if len(out) == batch:
                    yield out
                    out = []
    if out:
        yield out


def _prepared(store: Store, session_id: str, batch: int, after: int = 0,
              kept: Optional[list[list[tuple]]] = None) -> Iterator[tuple[list[tuple], dict]]:
    """(rows, projection rows) per batch, from ``kept`` (what the chain check read) or the store.
    For a SQLite source a second thread reads and parses the next batch on its own connection
    while this one waits for the target: the CPU work of one overlaps the database work of the other."""
    if store.dialect != "sqlite" and kept is None:
        for rows in _rows(store, session_id, batch, after):
            yield rows, _projection_rows(rows)
        return
    import queue
    import sqlite3
    import threading

    out: "queue.Queue" = queue.Queue(maxsize=2)
    stop = threading.Event()

    def read() -> None:
        con = None
        try:
            if kept is not None:
                source = _rebatch(kept, batch, after)
            else:
                con = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
                reader = Store.__new__(Store)  # only its query helper is used, on this thread's connection
                reader.conn = con
                source = _rows(reader, session_id, batch, after)
            for rows in source:
                if stop.is_set():
                    return
                out.put((rows, _projection_rows(rows)))
            out.put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            out.put(exc)
        finally:
            if con is not None:
                con.close()

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


def _check_chain(store: Store, session_id: str,
                 keep_bytes: int = 0) -> tuple[Optional[str], Optional[list[list[tuple]]]]:
    """(None, rows) if the source chain is whole, else (why not, naming the record, None).

    ``rows`` are the batches read, kept while their payloads total at most ``keep_bytes``; None
    when the session is longer."""
    prev, expected = GENESIS, 1
    kept: Optional[list[list[tuple]]] = []
    size = 0
    for rows in _rows(store, session_id):
        for rid, sid, seq, kind, t, payload, prev_hash, h in rows:
            if seq != expected:
                return f"record {seq}: sequence jumps from {expected - 1} to {seq} (records missing)", None
            if prev_hash != prev or record_hash(sid, seq, rid, kind, t, prev_hash, payload) != h:
                return f"record {seq} ({rid}): content does not match the hash chain", None
            prev, expected = h, expected + 1
            size += len(payload)
        if kept is not None and size <= keep_bytes:
            kept.append(rows)
        else:
            kept = None
    return None, kept


def _common_prefix(source: Store, target: Store, session_id: str) -> int:
    """How many leading records of the session the target already holds, identical to the source's.

    The hash of record n covers every record before it, so equal hashes at the target's last seq
    mean the whole prefix is the same: a repeated or resumed push need not read it again."""
    last = target._raw("SELECT seq, hash FROM records WHERE session_id = ? ORDER BY seq DESC LIMIT 1",
                       (session_id,)).fetchone()
    if not last:
        return 0
    mine = source._raw("SELECT hash FROM records WHERE session_id = ? AND seq = ?", (session_id, last[0])).fetchone()
    return int(last[0]) if mine and mine[0] == last[1] else 0


def _session_row(store: Store, session_id: str) -> Optional[dict[str, Any]]:
    rows = store._query(f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions WHERE session_id = ?", (session_id,))
    return rows[0] if rows else None


def _existing(target: Store, session_id: str, lo: int, hi: int) -> dict[int, tuple[str, str]]:
    """seq -> (record_id, hash) the target holds for this session in [lo, hi]."""
    return {seq: (rid, h) for rid, seq, h in target._raw(
        "SELECT record_id, seq, hash FROM records WHERE session_id = ? AND seq BETWEEN ? AND ?",
        (session_id, lo, hi)).fetchall()}


def _by_ids(target: Store, ids: list[str]) -> dict[str, tuple]:
    out = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        marks = ", ".join("?" * len(chunk))
        for rid, sid, seq, h in target._raw(f"SELECT record_id, session_id, seq, hash FROM records "
                                            f"WHERE record_id IN ({marks})", tuple(chunk)).fetchall():
            out[rid] = (sid, seq, h)
    return out


def _insert_batch(target: Store, rows: list[tuple], projections: Optional[dict] = None) -> set[str]:
    """Insert records and their projections in one transaction; returns the ids actually inserted."""
    if projections is None:
        projections = _projection_rows(rows)
    if target.dialect == "postgresql":
        return _insert_batch_pg(target, rows, projections)
    inserted: set[str] = set()
    with target._lock:
        target._raw(target._begin_sql)
        try:
            have = _by_ids(target, [r[0] for r in rows])
            new = [r for r in rows if r[0] not in have]
            target.conn.executemany(f"INSERT OR IGNORE INTO records ({', '.join(RECORD_COLUMNS)}) "
                                    f"VALUES ({', '.join('?' * len(RECORD_COLUMNS))})", new)
            done = _by_ids(target, [r[0] for r in new])
            new = [r for r in new if r[0] in done and done[r[0]][2] == r[7]]
            _insert_projections(target, projections, {r[0] for r in new})
            inserted = {r[0] for r in new}
            target._raw("COMMIT")
        except BaseException:
            target._raw("ROLLBACK")
            raise
    return inserted


def _projection_rows(rows: list[tuple]) -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    out: dict[str, tuple[tuple[str, ...], list[tuple]]] = {}
    for rid, sid, seq, kind, t, payload, _prev, _h in rows:
        table, columns = PROJECTIONS[kind]
        values = projection(kind, orjson.loads(payload))  # in column order (a test holds it to that)
        cols = ("record_id", "session_id", "seq", "time_utc", *columns)
        out.setdefault(table, (cols, []))[1].append((rid, sid, seq, t, *values.values()))
    return out


def _insert_projections(target: Store, projections: dict, ids: set[str]) -> None:
    for table, (cols, values) in projections.items():
        target.conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                [v for v in values if v[0] in ids])


def _copy_rows(cur, table: str, cols: tuple[str, ...], rows, types: Optional[list[str]] = None) -> None:
    """COPY rows into a table: in PostgreSQL's binary format when ``types`` (the columns' SQL types)
    are given, which spares the server from scanning every payload for escapes; else as text."""
    binary = " (FORMAT BINARY)" if types else ""
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN{binary}") as copy:
        if types:
            copy.set_types(types)
        for r in rows:
            copy.write_row(r)


def _insert_batch_pg(target: Store, rows: list[tuple], projections: dict) -> set[str]:
    """COPY straight into the tables (the common case: nothing of the batch is there yet); if another
    pusher got there first, a unique key stops the COPY and the batch goes the careful way.

    The COPY is binary, typed by the target's own columns. A payload of a chained record may hold a
    value of another type than its model's (a text where a number was expected): the binary
    encoder refuses it, and the batch is copied again as text, which the columns' input parse."""
    import psycopg

    with target._lock:
        for binary in (True, False):
            types = target.column_types if binary else (lambda table, cols: None)
            try:
                with target.conn.transaction():
                    cur = target.conn.cursor()
                    _copy_rows(cur, "records", RECORD_COLUMNS, rows, types("records", RECORD_COLUMNS))
                    for table, (cols, values) in projections.items():
                        _copy_rows(cur, table, cols, values, types(table, cols))
                return {r[0] for r in rows}
            except psycopg.errors.UniqueViolation:
                break
            except (TypeError, ValueError, OverflowError, psycopg.DataError):
                if not binary:
                    raise
        with target.conn.transaction():
            cur = target.conn.cursor()
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS push_records (LIKE records) ON COMMIT DELETE ROWS")
            _copy_rows(cur, "push_records", RECORD_COLUMNS, rows)
            cur.execute(f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) SELECT {', '.join(RECORD_COLUMNS)} "
                        "FROM push_records ON CONFLICT DO NOTHING RETURNING record_id")
            inserted = {r[0] for r in cur.fetchall()}
            for table, (cols, values) in projections.items():
                _copy_rows(cur, table, cols, [v for v in values if v[0] in inserted])
        return inserted


def _ensure_session(target: Store, row: dict[str, Any], report: SessionPush) -> bool:
    """Create the session row in the target, or check that the one there is the same session."""
    cols = ", ".join(SESSION_COLUMNS)
    ignore = "INSERT OR IGNORE INTO" if target.dialect == "sqlite" else "INSERT INTO"
    tail = "" if target.dialect == "sqlite" else " ON CONFLICT DO NOTHING"
    # a new session arrives open; it is closed below once its records are in
    values = tuple(row[c] if c not in ("status", "ended_utc") else (None if c == "ended_utc" else "open")
                   for c in SESSION_COLUMNS)
    target._transaction([(f"{ignore} sessions ({cols}) VALUES ({', '.join('?' * len(SESSION_COLUMNS))}){tail}", values)],
                        f"creating session {row['session_id']}")
    there = _session_row(target, row["session_id"])
    differs = [c for c in IMMUTABLE_SESSION if there[c] != row[c]]
    if differs:
        report.status, report.reason = "rejected", (f"the target holds session {row['session_id']} with other "
                                                    f"{', '.join(differs)}")
        return False
    return True


INSPECTION_COLUMNS = ("inspection_id", "created_utc", "grounds", "operator", "kato", "act_number", "act_registered",
                      "record")


def _push_inspections(source: Store, target: Store, report: PushReport) -> None:
    """Copy inspection records: new ones are added, identical ones skipped, a known id with other
    content rejected and listed (never overwritten)."""
    cols = ", ".join(INSPECTION_COLUMNS)
    rows = source._query(f"SELECT {cols} FROM inspections ORDER BY inspection_id")
    ignore, tail = ("INSERT OR IGNORE INTO", "") if target.dialect == "sqlite" else ("INSERT INTO", " ON CONFLICT DO NOTHING")
    for row in rows:
        there = target._query(f"SELECT {cols} FROM inspections WHERE inspection_id = ?", (row["inspection_id"],))
        if not there:
            target._transaction([(f"{ignore} inspections ({cols}) VALUES ({', '.join('?' * len(INSPECTION_COLUMNS))}){tail}",
                                  tuple(row[c] for c in INSPECTION_COLUMNS))], f"adding inspection {row['inspection_id']}")
            there = target._query(f"SELECT {cols} FROM inspections WHERE inspection_id = ?", (row["inspection_id"],))
            if there and there[0] == row:
                report.inspections["added"] += 1
                continue
        if there and there[0] == row:
            report.inspections["skipped"] += 1
        else:
            report.inspections["rejected"].append({
                "inspection_id": row["inspection_id"],
                "reason": "the target holds an inspection with this id and other content (ids are numbered per store: "
                          "renumber one of them before merging)"})


def _push_session(source: Store, target: Store, s: dict[str, Any], batch: int,
                  progress: Callable[[str, int, int], None] | None = None) -> SessionPush:
    """Push one session (see the module docstring); returns what happened to it."""
    sid = s["session_id"]
    sp = SessionPush(sid, records=s["records"])
    broken, kept = _check_chain(source, sid, KEEP_BYTES)
    if broken:
        sp.status, sp.reason = "rejected", f"hash chain broken in the source at {broken}"
        sp.rejected = [{"session_id": sid, "count": sp.records, "reason": sp.reason}]
        return sp
    row = _session_row(source, sid)
    if not _ensure_session(target, row, sp):
        sp.rejected = [{"session_id": sid, "count": sp.records, "reason": sp.reason}]
        return sp
    done = _common_prefix(source, target, sid)
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
        target._transaction([("UPDATE sessions SET status = 'closed', ended_utc = ? WHERE session_id = ? "
                              "AND status = 'open'", (s["ended_utc"], sid))], f"closing session {sid}")
    return sp


def _push_in_worker(args: tuple) -> SessionPush:
    """One session in a worker process, on its own connections."""
    from .store import open_store

    source_db, target_db, s, batch = args
    with open_store(source_db) as source, open_store(target_db) as target:
        return _push_session(source, target, s, batch)


def _reopenable(store: Store) -> str:
    return getattr(store, "url", None) or str(store.path)


def push(source: Store, target: Store, *, batch: int = BATCH, workers: int = 1,
         progress: Callable[[str, int, int], None] | None = None) -> PushReport:
    """Copy every session of ``source`` into ``target`` as described in the module docstring.

    ``workers`` > 1 pushes that many sessions at once, each in its own process with its own
    connections (the target's unique keys keep them apart, as between laptops); ``progress`` is
    then called once per finished session.
    """
    if source.label == target.label:
        raise StoreError(f"{source.label}: source and target are the same store")
    report = PushReport(source.label, target.label)
    sessions = sorted(source.sessions(), key=lambda x: x["session_id"])
    if workers > 1 and len(sessions) > 1:
        import multiprocessing

        jobs = [(_reopenable(source), _reopenable(target), s, batch) for s in sessions]
        with multiprocessing.get_context("spawn").Pool(min(workers, len(sessions))) as pool:
            for sp in pool.imap(_push_in_worker, jobs):
                report.sessions.append(sp)
                if progress is not None:
                    progress(sp.session_id, sp.records, sp.records)
    else:
        for s in sessions:
            report.sessions.append(_push_session(source, target, s, batch, progress))
    _push_inspections(source, target, report)
    return report
