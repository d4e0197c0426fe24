"""The probe's sessions in a store: write samples durably, read them back, check their chains.

:class:`SampleStore` wraps a :class:`qamtu.store.Store` (SQLite file or PostgreSQL) and adds what
is about sessions and samples; everything else (transactions, queries, migrations) is the store's
public API, which :class:`SampleStore` passes through. The tables are the probe's own
(:mod:`qamtu.probe.schema`).

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

import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional

import orjson

from .. import __version__
from ..store import Store as BaseStore
from ..store import StoreError, open_store
from ..store.chain import GENESIS, ChainReport, canonical_json, record_hash, verify_rows
from .aggregates import NewSamples, statements as aggregate_statements
from .ids import uuid7
from .samples import (INTEGER_IDS, OPERATOR_CODES, Event, Sample, SpeedTestRecord, event_columns,
                      sample_columns, speedtest_columns, time_text)
from .schema import PROJECTIONS

if TYPE_CHECKING:   # pandas loads on the read path only: a probe recording samples never needs it (~35 MiB)
    import pandas as pd

#: projection columns that may be left null on purpose (see :func:`~qamtu.probe.samples.projection_notes`)
CHECKED_COLUMNS = (*OPERATOR_CODES, *INTEGER_IDS)
COLUMN_FUNCS = {"sample": sample_columns, "speedtest": speedtest_columns, "event": event_columns}
#: kind -> the INSERT of its projection row: record_id, session_id, seq, time_utc, then the table's columns in order.
PROJECTION_INSERTS = {
    kind: f"INSERT INTO {table} ({', '.join(['record_id', 'session_id', 'seq', 'time_utc', *columns])}) "
          f"VALUES ({', '.join('?' * (4 + len(columns)))})"
    for kind, (table, columns) in PROJECTIONS.items()}


def projection(kind: str, payload: dict[str, Any], notes: list[str] | None = None) -> dict[str, Any]:
    """The projection row of a record: column -> value, in the order of the table's columns
    (:data:`~qamtu.probe.schema.PROJECTIONS`), flags as 0/1 as both databases store them. ``notes``
    (if given) gets why values were left out (:func:`~qamtu.probe.samples.projection_notes`)."""
    return COLUMN_FUNCS[kind](payload, notes)


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

    store: "SampleStore"
    session_id: str
    inspector: str
    inspection_id: Optional[str]
    seq: int = 0
    head: str = GENESIS
    closed: bool = False
    #: projection notes already written as a warning event in this session (each once)
    noted: set = None  # type: ignore[assignment]

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
        notes: list[str] = []
        values = projection(kind, dumped, notes)  # the table's columns, in order
        # the daily aggregates grow in the same transaction as the sample, computed by the database
        aggregates = aggregate_statements(self.store.engine, NewSamples.one(rid)) if kind == "sample" else []
        statements = [
            *before_sql,
            ("INSERT INTO records (record_id, session_id, seq, kind, time_utc, payload, prev_hash, hash) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (rid, self.session_id, seq, kind, t, text, self.head, h)),
            (PROJECTION_INSERTS[kind], (rid, self.session_id, seq, t, *values.values())),
            *extra_sql,
            *aggregates,
        ]
        with self.store.db.transaction(f"recording {kind} {seq} of session {self.session_id}") as tx:
            for sql, params in statements:
                tx.execute(sql, params)
        self.seq, self.head = seq, h
        if notes:
            self._note(notes, time_utc)
        return rid

    def _note(self, notes: list[str], time_utc: datetime) -> None:
        """After a record whose projection left values out (operator code not digits, identifier too
        large: ``notes``), record a warning event saying so, once per distinct note in the session."""
        if self.noted is None:
            self.noted = set()
        for note in notes:
            if note not in self.noted:
                self.noted.add(note)
                self._append("event", time_utc, Event(type="warning", message=f"record {self.seq}: {note}",
                                                      details={"record_seq": self.seq, "projection": note}))

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


class SampleStore:
    """The probe's sessions in a store. Wraps a :class:`qamtu.store.Store` (``db``) and passes its public API
    (``engine``, ``label``, ``transaction``, ``query``, ``rows``, ``frame``, ``schema_versions`` ...) through.

    ``SampleStore(path)`` opens (and creates, unless ``create=False``) a SQLite file; give it an open
    store, a path or a ``postgresql://`` URL. ``Store`` is the same class under its older name."""

    def __init__(self, db: "BaseStore | SampleStore | Path | str", *, create: bool = True, read_only: bool = False):
        if isinstance(db, SampleStore):
            db = db.db
        self.db: BaseStore = db if isinstance(db, BaseStore) else open_store(db, create=create, read_only=read_only)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "db":
            raise AttributeError(name)
        return getattr(self.db, name)

    @classmethod
    def open(cls, db: "Path | str", *, create: bool = True, read_only: bool = False) -> "SampleStore":
        return cls(db, create=create, read_only=read_only)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "SampleStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SampleStore {self.db!r}>"

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
            "INSERT INTO sessions (session_id, started_utc, status, inspector, inspection_id, host, qamtu_version, "
            "meta) VALUES (?, ?, 'open', ?, ?, ?, ?, ?)",
            (sid, time_text(t), inspector, inspection_id, meta["host"], meta["qamtu_version"], canonical_json(meta)))])
        return writer

    def _session_rows(self, where: str = "", params: tuple = ()) -> list[dict[str, Any]]:
        """Sessions matching ``where`` (a condition on ``sessions s``, or all) with their record counts,
        newest first: one grouped pass over each table, limited to the matching sessions (a count per
        session and table would read a large office store once per session)."""
        only = f"WHERE session_id IN (SELECT s.session_id FROM sessions s WHERE {where})" if where else ""
        sql = ("SELECT s.session_id, s.started_utc, s.ended_utc, s.status, s.inspector, s.inspection_id, s.host, "
               "s.qamtu_version, CAST(COALESCE(a.samples, 0) AS BIGINT) AS samples, "
               "CAST(COALESCE(a.no_service, 0) AS BIGINT) AS no_service, "
               "CAST(COALESCE(a.modem_lost, 0) AS BIGINT) AS modem_lost, "
               "CAST(COALESCE(t.n, 0) AS BIGINT) AS speedtests, CAST(COALESCE(r.n, 0) AS BIGINT) AS records "
               "FROM sessions s "
               "LEFT JOIN (SELECT session_id, COUNT(*) AS samples, "
               "SUM(CASE WHEN status = 'no_service' THEN 1 ELSE 0 END) AS no_service, "
               f"SUM(CASE WHEN status = 'modem_lost' THEN 1 ELSE 0 END) AS modem_lost FROM samples {only} "
               "GROUP BY session_id) a ON a.session_id = s.session_id "
               f"LEFT JOIN (SELECT session_id, COUNT(*) AS n FROM speedtests {only} GROUP BY session_id) t "
               "ON t.session_id = s.session_id "
               f"LEFT JOIN (SELECT session_id, COUNT(*) AS n FROM records {only} GROUP BY session_id) r "
               "ON r.session_id = s.session_id "
               + (f"WHERE {where} " if where else "")
               + "ORDER BY s.started_utc DESC, s.session_id DESC")
        return self.db.query(sql, params * 4 if where else ())   # ``where`` is in the text 4 times: 3 joins, 1 outer

    def sessions(self) -> list[dict[str, Any]]:
        """Every session with its record counts, newest first."""
        return self._session_rows()

    def session(self, session_id: str) -> dict[str, Any]:
        """One session (a unique id prefix is enough), with its meta and record counts."""
        matches = self._session_rows("substr(s.session_id, 1, ?) = ?", (len(session_id), session_id))
        if len(matches) != 1:
            raise StoreError(f"{self.label}: {'no' if not matches else 'more than one'} session matches {session_id!r}")
        s = matches[0]
        meta = self.db.query("SELECT meta FROM sessions WHERE session_id = ?", (s["session_id"],))[0]["meta"]
        return {**s, "meta": orjson.loads(meta)}

    def session_metas(self) -> dict[str, dict[str, Any]]:
        """session id -> its meta (inspector's host, qamtu version, ``synthetic`` / ``simulated`` marks),
        without counting records: what a reader that only needs the marks should call."""
        rows = self.db.query("SELECT session_id, meta FROM sessions")
        return {r["session_id"]: orjson.loads(r["meta"]) for r in rows}

    # ------------------------------------------------------------------ checks
    def verify(self, session_id: str | None = None) -> list[ChainReport]:
        """Check the hash chain and the projections of one session (or all); one report each."""
        ids = ([self.session(session_id)["session_id"]] if session_id else
               [r["session_id"] for r in self.db.query("SELECT session_id FROM sessions "
                                                       "ORDER BY started_utc DESC, session_id DESC")])
        return [self._verify_one(sid) for sid in ids]

    def _verify_one(self, sid: str) -> ChainReport:
        rows = self.db.rows("SELECT seq, record_id, kind, time_utc, payload, prev_hash, hash FROM records "
                            "WHERE session_id = ? ORDER BY seq", (sid,))
        report = verify_rows(sid, rows)
        if not report.ok:
            return report
        for kind, (table, columns) in PROJECTIONS.items():
            stored = {r["record_id"]: r for r in self.db.query(
                f"SELECT record_id, seq, time_utc, {', '.join(columns)} FROM {table} WHERE session_id = ?", (sid,))}
            for seq, rid, rkind, t, payload, _prev, _hash in rows:
                if rkind != kind:
                    continue
                row = stored.pop(rid, None)
                try:
                    dumped = orjson.loads(payload)
                    if not isinstance(dumped, dict):
                        raise TypeError(f"JSON {type(dumped).__name__}, not an object")
                    expected = projection(kind, dumped)
                except Exception as exc:  # any shape of bad payload is a finding, never a traceback
                    return ChainReport(sid, report.records, report.head_hash, False, seq, rid,
                                       f"payload is not a valid {kind} record ({type(exc).__name__}: {str(exc)[:120]})")
                if (row is None or row["seq"] != seq or row["time_utc"] != t
                        or any(row[c] != expected[c] for c in columns)):
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
    def frame_of(self, table: str, session: str | None, start: datetime | str | None, end: datetime | str | None,
               operator: str | None, kato: str | None, inspection: str | None) -> pd.DataFrame:
        import pandas as pd

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
        df = self.db.frame(sql, params, f"reading {table}")
        if not len(df):
            df = pd.DataFrame({c: pd.Series(dtype=object) for c in ["record_id", "session_id", "seq", "time_utc",
                                                                      *columns]})
        df["time_utc"] = pd.to_datetime(df["time_utc"], utc=True, format="ISO8601")
        return df

    def samples_frame(self, *, session: str | None = None, start=None, end=None, operator: str | None = None,
                      kato: str | None = None, inspection: str | None = None) -> pd.DataFrame:
        """Samples as a DataFrame (one row per sample, columns of ``probe.schema.SAMPLE_COLUMNS``)."""
        return self.frame_of("samples", session, start, end, operator, kato, inspection)

    def speedtests_frame(self, *, session: str | None = None, start=None, end=None, operator: str | None = None,
                         kato: str | None = None, inspection: str | None = None) -> pd.DataFrame:
        """Speed-test records as a DataFrame (failed and invalid tests included, with ``valid``)."""
        df = self.frame_of("speedtests", session, start, end, operator, kato, inspection)
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
        return self.db.query("SELECT seq, record_id, kind, time_utc, payload, prev_hash, hash FROM records "
                             "WHERE session_id = ? ORDER BY seq", (sid,))

    def events_frame(self, *, session: str | None = None, start=None, end=None) -> pd.DataFrame:
        """Events as a DataFrame (type, message, port)."""
        return self.frame_of("events", session, start, end, None, None, None)


#: The older name of :class:`SampleStore`.
Store = SampleStore


def sample_store(db: "BaseStore | SampleStore | Path | str", *, create: bool = False,
                 read_only: bool = False) -> SampleStore:
    """A :class:`SampleStore` over ``db``: an open store (used as it is) or a path/URL opened with
    :func:`qamtu.store.open_store` (a file must exist unless ``create``)."""
    if isinstance(db, SampleStore):
        return db
    return SampleStore(db if isinstance(db, BaseStore) else open_store(db, create=create, read_only=read_only))
