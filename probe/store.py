"""The durable sample store: one SQLite file, WAL, every record committed before it counts.

Write path: :meth:`Store.begin_session` returns a :class:`SessionWriter`; each ``sample`` /
``speedtest`` / ``event`` call appends one hash-chained record and its projection row in one
transaction and returns only after the commit (``synchronous=FULL``), so a record the probe reports
as recorded survives ``kill -9`` and power loss. A failed write (full disk, read-only file) rolls
back, leaves the file intact and raises :class:`StoreError` saying what to do.

Read path: :meth:`Store.samples_frame` and friends return pandas / geopandas frames filtered by
time, operator, settlement, session and inspection; :meth:`Store.verify` checks hash chains and
projections.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

import orjson
import pandas as pd

from .. import __version__
from .chain import GENESIS, ChainReport, canonical_json, record_hash, verify_rows
from .errors import ProbeError
from .ids import uuid7
from .migrations import LATEST, MIGRATIONS, PROJECTIONS
from .samples import (Event, Sample, SpeedTestRecord, event_columns, sample_columns,
                      speedtest_columns, time_text)

COLUMN_FUNCS = {"sample": sample_columns, "speedtest": speedtest_columns, "event": event_columns}
#: kind -> the INSERT of its projection row: record_id, session_id, seq, time_utc, then the table's columns in order.
PROJECTION_INSERTS = {
    kind: f"INSERT INTO {table} ({', '.join(['record_id', 'session_id', 'seq', 'time_utc', *columns])}) "
          f"VALUES ({', '.join('?' * (4 + len(columns)))})"
    for kind, (table, columns) in PROJECTIONS.items()}


def projection(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The projection row of a record: column -> value, in the order of the table's columns
    (:data:`~qamtu.probe.migrations.PROJECTIONS`), flags as 0/1 as both databases store them."""
    return COLUMN_FUNCS[kind](payload)


class StoreError(ProbeError):
    """The store could not be opened, migrated, written or read. The message names the file."""


def _read_only(path: Path) -> bool:
    """True when the store file or its folder cannot be written (read-only mount or permissions)."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except (OSError, AttributeError):  # AttributeError: no statvfs on Windows
        pass
    return not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK))


def _explain(path: Path, action: str, exc: sqlite3.Error) -> StoreError:
    text = str(exc)
    low = text.lower()
    if "readonly" in low or "read-only" in low or ("unable to open" in low and _read_only(path)):
        hint = "the file or its folder is read-only: recording stopped; use a writable --db path"
    elif "full" in low:
        hint = "the disk is full: recording stopped; free space, then start a new session (the file is intact)"
    elif "locked" in low or "busy" in low:
        hint = "another program holds a write lock on the file; close it and retry"
    elif "not a database" in low or "malformed" in low:
        hint = "the file is not a Qamtu/SQLite database or is damaged"
    else:
        hint = text
    return StoreError(f"{path}: {action} failed: {hint} ({type(exc).__name__}: {text})")


def parse_operator(value: str) -> tuple[str, str]:
    """'401-02' or an operator name known to the device tables ('Kcell') -> ('401', '02')."""
    value = value.strip()
    if "-" in value and value.replace("-", "").isdigit():
        mcc, mnc = value.split("-", 1)
        return mcc, mnc
    from ..device.values import table

    for code, op in table("operators")["operators"].items():
        if op["name"].lower() == value.lower():
            mcc, mnc = code.split("-", 1)
            return mcc, mnc
    raise StoreError(f"operator {value!r}: give MCC-MNC such as 401-02, or a known name")


@dataclass
class SessionWriter:
    """Appends hash-chained records to one open session. Not for use from several threads at once."""

    store: "Store"
    session_id: str
    inspector: str
    inspection_id: Optional[str]
    seq: int = 0
    head: str = GENESIS
    closed: bool = False

    def _append(self, kind: str, time_utc: datetime, payload: Any, *, before_sql: Iterable[tuple[str, tuple]] = (),
                extra_sql: Iterable[tuple[str, tuple]] = ()) -> str:
        if self.closed:
            raise StoreError(f"{self.store.label}: session {self.session_id} is closed")
        dumped = payload.model_dump(mode="json")
        text = canonical_json(dumped)
        t = time_text(time_utc)
        seq = self.seq + 1
        rid = uuid7()
        h = record_hash(self.session_id, seq, rid, kind, t, self.head, text)
        values = projection(kind, dumped)  # the table's columns, in order
        statements = [
            *before_sql,
            ("INSERT INTO records (record_id, session_id, seq, kind, time_utc, payload, prev_hash, hash) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (rid, self.session_id, seq, kind, t, text, self.head, h)),
            (PROJECTION_INSERTS[kind], (rid, self.session_id, seq, t, *values.values())),
            *extra_sql,
        ]
        self.store._transaction(statements, f"recording {kind} {seq} of session {self.session_id}")
        self.seq, self.head = seq, h
        return rid

    def sample(self, sample: Sample, time_utc: datetime) -> str:
        """Commit one sample; returns its record id once it is durable."""
        return self._append("sample", time_utc, sample)

    def speedtest(self, record: SpeedTestRecord, time_utc: datetime) -> str:
        """Commit one speed-test record (failed tests too)."""
        return self._append("speedtest", time_utc, record)

    def event(self, event: Event, time_utc: datetime | None = None) -> str:
        """Commit one event (modem lost, trigger, warning...)."""
        return self._append("event", time_utc or datetime.now(timezone.utc), event)

    def close(self, summary: dict[str, Any] | None = None, time_utc: datetime | None = None) -> None:
        """Append the ``session_end`` event with ``summary`` and mark the session closed."""
        if self.closed:
            return
        t = time_utc or datetime.now(timezone.utc)
        self._append("event", t, Event(type="session_end", message="session closed", details=summary or {}),
                     extra_sql=[("UPDATE sessions SET status = 'closed', ended_utc = ? WHERE session_id = ?",
                                 (time_text(t), self.session_id))])
        self.closed = True


class Store:
    """A Qamtu sample store in one SQLite file (created and migrated on open)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._batch_depth = 0
        self._batch_failed = False
        self._connect()
        self._migrate()

    # ------------------------------------------------------------------ dialect hooks (SQLite here)
    dialect = "sqlite"
    _errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    _begin_sql = "BEGIN IMMEDIATE"

    @property
    def label(self) -> str:
        """How messages name this store (the file path; a URL without password for servers)."""
        return str(self.path)

    def _connect(self) -> None:
        try:
            self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise self._explain("opening the store", exc) from None

    def _raw(self, sql: str, params: tuple | list = ()):
        """Run one statement (``?`` placeholders); returns a cursor."""
        return self.conn.execute(sql, params)

    def _explain(self, action: str, exc: BaseException) -> "StoreError":
        return _explain(self.path, action, exc)

    def _version_statements(self, version: int) -> list[tuple[str, tuple]]:
        return [(f"PRAGMA user_version = {version}", ())]

    def _ddl(self, version: int, statements: list[str]) -> list[str]:
        return statements

    def _read_frame(self, sql: str, params: list) -> pd.DataFrame:
        return pd.read_sql_query(sql, self.conn, params=params)

    @classmethod
    def open(cls, path: Path | str) -> "Store":
        return cls(path)

    # ------------------------------------------------------------------ schema
    def schema_version(self) -> int:
        return int(self._raw("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        try:
            current = self.schema_version()
        except self._errors as exc:
            raise self._explain("reading the schema version", exc) from None
        if current > LATEST:
            raise StoreError(f"{self.label}: schema version {current} is newer than this qamtu knows ({LATEST}); "
                             "upgrade qamtu to open it")
        for version, name, statements in MIGRATIONS:
            if version <= current:
                continue
            self._transaction(
                [("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                  "applied_utc TEXT NOT NULL)", ())]
                + [(sql, ()) for sql in self._ddl(version, statements)]
                + [("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, time_text(datetime.now(timezone.utc))))]
                + self._version_statements(version),
                f"migrating to schema version {version}")

    def _transaction(self, statements: list[tuple[str, tuple]], action: str) -> None:
        with self._lock:
            if self._batch_depth:
                try:
                    for sql, params in statements:
                        self._raw(sql, params)
                except self._errors as exc:
                    self._batch_failed = True
                    raise self._explain(action, exc) from None
                return
            try:
                self._raw(self._begin_sql)
                for sql, params in statements:
                    self._raw(sql, params)
                self._raw("COMMIT")
            except self._errors as exc:
                try:
                    self._raw("ROLLBACK")
                except self._errors:
                    pass
                raise self._explain(action, exc) from None

    @contextmanager
    def batch(self):
        """Commit everything written inside the block as one transaction (bulk imports, generators).

        Not for the probe: there every record is committed on its own. If anything inside fails,
        nothing of the block is kept; writers used inside must then be discarded.
        """
        with self._lock:
            self._raw(self._begin_sql)
            self._batch_depth += 1
            self._batch_failed = False
            try:
                yield self
            except BaseException:
                self._batch_depth -= 1
                self._raw("ROLLBACK")
                raise
            self._batch_depth -= 1
            if self._batch_failed:
                self._raw("ROLLBACK")
                raise StoreError(f"{self.label}: a write inside a batch failed; nothing of the batch was kept")
            try:
                self._raw("COMMIT")
            except self._errors as exc:
                self._raw("ROLLBACK")
                raise self._explain("committing a batch", exc) from None

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ sessions
    def begin_session(self, inspector: str, inspection_id: str | None = None, meta: dict[str, Any] | None = None,
                      time_utc: datetime | None = None) -> SessionWriter:
        """Open a new session; its first record is a ``session_start`` event carrying ``meta``."""
        if not inspector or not inspector.strip():
            raise StoreError(f"{self.label}: a session needs the inspector's name (--inspector)")
        t = time_utc or datetime.now(timezone.utc)
        sid = uuid7()
        meta = {"host": platform.node(), "qamtu_version": __version__, **(meta or {})}
        writer = SessionWriter(self, sid, inspector, inspection_id)
        start = Event(type="session_start", message="session started",
                      details={"inspector": inspector, "inspection_id": inspection_id, **meta})
        writer._append("event", t, start, before_sql=[(
            "INSERT INTO sessions (session_id, started_utc, status, inspector, inspection_id, host, qamtu_version, meta) "
            "VALUES (?, ?, 'open', ?, ?, ?, ?, ?)",
            (sid, time_text(t), inspector, inspection_id, meta["host"], meta["qamtu_version"], canonical_json(meta)))])
        return writer

    def sessions(self) -> list[dict[str, Any]]:
        """Every session with its record counts, newest first."""
        rows = self._query(
            "SELECT s.session_id, s.started_utc, s.ended_utc, s.status, s.inspector, s.inspection_id, s.host, "
            "s.qamtu_version, "
            "(SELECT COUNT(*) FROM samples x WHERE x.session_id = s.session_id) AS samples, "
            "(SELECT COUNT(*) FROM samples x WHERE x.session_id = s.session_id AND x.status = 'no_service') AS no_service, "
            "(SELECT COUNT(*) FROM samples x WHERE x.session_id = s.session_id AND x.status = 'modem_lost') AS modem_lost, "
            "(SELECT COUNT(*) FROM speedtests x WHERE x.session_id = s.session_id) AS speedtests, "
            "(SELECT COUNT(*) FROM records x WHERE x.session_id = s.session_id) AS records "
            "FROM sessions s ORDER BY s.started_utc DESC, s.session_id DESC")
        return rows

    def session(self, session_id: str) -> dict[str, Any]:
        """One session (a unique id prefix is enough), with its meta and record counts."""
        matches = [s for s in self.sessions() if s["session_id"].startswith(session_id)]
        if len(matches) != 1:
            raise StoreError(f"{self.label}: {'no' if not matches else 'more than one'} session matches {session_id!r}")
        s = matches[0]
        meta = self._query("SELECT meta FROM sessions WHERE session_id = ?", (s["session_id"],))[0]["meta"]
        return {**s, "meta": orjson.loads(meta)}

    def _query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        with self._lock:
            try:
                cur = self._raw(sql, params)
                names = [d[0] for d in cur.description]
                return [dict(zip(names, row)) for row in cur.fetchall()]
            except self._errors as exc:
                raise self._explain("reading", exc) from None

    # ------------------------------------------------------------------ checks
    def verify(self, session_id: str | None = None) -> list[ChainReport]:
        """Check the hash chain and the projections of one session (or all); one report each."""
        ids = [self.session(session_id)["session_id"]] if session_id else [s["session_id"] for s in self.sessions()]
        return [self._verify_one(sid) for sid in ids]

    def _verify_one(self, sid: str) -> ChainReport:
        with self._lock:
            rows = self._raw(
                "SELECT seq, record_id, kind, time_utc, payload, prev_hash, hash FROM records "
                "WHERE session_id = ? ORDER BY seq", (sid,)).fetchall()
        report = verify_rows(sid, rows)
        if not report.ok:
            return report
        for kind, (table, columns) in PROJECTIONS.items():
            stored = {r["record_id"]: r for r in self._query(
                f"SELECT record_id, seq, time_utc, {', '.join(columns)} FROM {table} WHERE session_id = ?", (sid,))}
            for seq, rid, rkind, t, payload, _prev, _hash in rows:
                if rkind != kind:
                    continue
                row = stored.pop(rid, None)
                expected = projection(kind, orjson.loads(payload))
                if row is None or row["seq"] != seq or row["time_utc"] != t or any(row[c] != expected[c] for c in columns):
                    bad = "missing" if row is None else next(
                        (c for c in ("seq", "time_utc", *columns)
                         if row[c] != {"seq": seq, "time_utc": t, **expected}[c]), "?")
                    return ChainReport(sid, report.records, report.head_hash, False, seq, rid,
                                       f"{table} row differs from the chained record (column {bad})")
            if stored:
                rid, row = next(iter(stored.items()))
                return ChainReport(sid, report.records, report.head_hash, False, row["seq"], rid,
                                   f"{table} row has no chained record (inserted outside the chain)")
        return report

    # ------------------------------------------------------------------ frames
    def _frame(self, table: str, session: str | None, start: datetime | str | None, end: datetime | str | None,
               operator: str | None, kato: str | None, inspection: str | None) -> pd.DataFrame:
        where, params = [], []
        if session:
            where.append("session_id = ?")
            params.append(self.session(session)["session_id"])
        if start is not None:
            where.append("time_utc >= ?")
            params.append(time_text(start) if isinstance(start, datetime) else str(start))
        if end is not None:
            where.append("time_utc < ?")
            params.append(time_text(end) if isinstance(end, datetime) else str(end))
        if operator:
            mcc, mnc = parse_operator(operator)
            where += ["operator_mcc = ?", "operator_mnc = ?"]
            params += [mcc, mnc]
        if kato:
            where.append("kato = ?")
            params.append(kato)
        if inspection:
            where.append("inspection_id = ?")
            params.append(inspection)
        columns = next(cols for name, cols in PROJECTIONS.values() if name == table)
        sql = (f"SELECT record_id, session_id, seq, time_utc, {', '.join(columns)} FROM {table}"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY time_utc, seq")
        with self._lock:
            try:
                df = self._read_frame(sql, params)
            except (*self._errors, pd.errors.DatabaseError) as exc:
                raise StoreError(f"{self.label}: reading {table} failed: {exc}") from None
        df["time_utc"] = pd.to_datetime(df["time_utc"], utc=True, format="ISO8601")
        return df

    def samples_frame(self, *, session: str | None = None, start=None, end=None, operator: str | None = None,
                      kato: str | None = None, inspection: str | None = None) -> pd.DataFrame:
        """Samples as a DataFrame (one row per sample, columns of ``probe.migrations.SAMPLE_COLUMNS``)."""
        return self._frame("samples", session, start, end, operator, kato, inspection)

    def speedtests_frame(self, *, session: str | None = None, start=None, end=None, operator: str | None = None,
                         kato: str | None = None, inspection: str | None = None) -> pd.DataFrame:
        """Speed-test records as a DataFrame (failed and invalid tests included, with ``valid``)."""
        df = self._frame("speedtests", session, start, end, operator, kato, inspection)
        for col in ("valid", "consumer_comparable_only"):
            df[col] = df[col].astype(bool)
        return df

    def samples_geoframe(self, **filters):
        """Samples as a GeoDataFrame (EPSG:4326 points; empty geometry where there was no fix)."""
        import geopandas as gpd

        df = self.samples_frame(**filters)
        geometry = gpd.points_from_xy(df["lon"], df["lat"], crs="EPSG:4326")
        return gpd.GeoDataFrame(df, geometry=geometry, crs="EPSG:4326")

    def records(self, session_id: str) -> list[dict[str, Any]]:
        """The raw chained records of one session in order (payloads as JSON text)."""
        sid = self.session(session_id)["session_id"]
        return self._query("SELECT seq, record_id, kind, time_utc, payload, prev_hash, hash FROM records "
                           "WHERE session_id = ? ORDER BY seq", (sid,))


def open_store(db: str | Path) -> Store:
    """Open a store: a ``postgresql://`` (or ``postgres://``) URL, or the path of a SQLite file."""
    text = str(db)
    if text.startswith(("postgresql://", "postgres://")):
        from .store_pg import PostgresStore

        return PostgresStore(text)
    return Store(Path(text))
