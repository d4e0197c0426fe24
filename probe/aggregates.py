"""Daily aggregates of samples: what any coverage rule set needs, without reading the samples again.

Migration 3 of the probe (``probe/sql/0003.*.sql``) creates two tables and fills them from the
samples a store already holds; from then on every transaction that adds samples adds to them:

* ``sample_days``: per settlement (``kato``; ``''`` when untagged) x operator (``operator_mcc``,
  ``operator_mnc``; ``''`` when unknown) x UTC ``day`` (``YYYY-MM-DD``) x ``status`` x ``technology``
  (``'none'`` when unknown): ``samples`` and the ``first_utc`` / ``last_utc`` sample times.
* ``sample_signal_days``: the same key x ``metric`` (each of :data:`METRICS`) x ``bin_dbm``, the floor
  of the value in whole dBm (1 dB bins): ``samples``, ``sum_dbm`` and ``max_dbm`` of the values in
  the bin.

A rule-set threshold on a whole number of dBm (``value < -110``) is evaluated exactly from the
bins (``floor(v) < T`` exactly when ``v < T`` for an integer ``T``), the best value is exact
(``max_dbm``), and medians are exact for whole-dBm readings (what AT+CESQ and most modems report)
and within the 1 dB bin otherwise (the bin's mean stands for its values). Speed tests are not
aggregated: a few per hour of driving (one per 5-15 min against 3,600 samples), the classification
reads them directly.

Migration 5 (``probe/sql/0005.*.sql``) rolls both up per UTC month (``month``, ``YYYY-MM``):
``sample_months`` (with ``day_mask``: bit ``d - 1`` set when day ``d`` of the month has samples of
the key, so the distinct days of any set of keys are the bits of their OR) and
``sample_signal_months`` (the same 1 dB bins). A classification reads its period's whole months
there and only the days of a partial first or last month from the daily tables: a year's window
reads twelve rows where it read 365.

The database computes them: a transaction that inserted samples calls :func:`add_new_samples` with
a :class:`NewSamples` condition naming those rows, and each statement of :data:`UPSERTS` (one per
aggregate table) groups them with the expressions of migration 3's backfill and upserts the groups,
in the table's key order (so that concurrent pushers lock shared rows in the same order and never
deadlock). Inside the transaction that inserted the samples, a sample is counted exactly when it
is stored: a kill between transactions leaves no sample without its aggregates, and a repeated
push, which inserts nothing, adds nothing. A new aggregate table (a later migration) is kept
current by adding its statement to :data:`UPSERTS`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

#: signal columns binned per technology: every metric a rule set may name (``mapping.rules.SignalRule``)
METRICS = ("rsrp_dbm", "rscp_dbm", "rssi_dbm", "nr_rsrp_dbm")
KEY = ("kato", "operator_mcc", "operator_mnc", "day", "status", "technology")
MONTH_KEY = ("kato", "operator_mcc", "operator_mnc", "month", "status", "technology")
#: the aggregate tables, daily then monthly (what :func:`rebuild` recomputes and counts)
TABLES = ("sample_days", "sample_signal_days", "sample_months", "sample_signal_months")
#: values outside this open interval (dBm) are not binned (the migration's backfill says the same)
LIMIT_DBM = 1000

#: the grouping key of a sample row, as migration 3's backfill writes it (columns of ``KEY``)
_KEY_SQL = ("COALESCE(kato, '') AS kato, COALESCE(operator_mcc, '') AS operator_mcc, "
            "COALESCE(operator_mnc, '') AS operator_mnc, substr(time_utc, 1, 10) AS day, status, "
            "COALESCE(technology, 'none') AS technology")
#: the primary key order of both tables (day first): the order in which rows are upserted
_ORDER = "day, kato, operator_mcc, operator_mnc, status, technology"
#: a finite value in (-LIMIT_DBM, LIMIT_DBM), per engine: SQLite keeps a text that is not a number as text
_BINNED = {"sqlite": f"typeof(v) IN ('real', 'integer') AND v > -{LIMIT_DBM} AND v < {LIMIT_DBM}",
           "postgresql": f"v > -{LIMIT_DBM} AND v < {LIMIT_DBM}"}   # NaN sorts above every number there
#: floor(v) as an integer, per engine (SQLite has no floor() before 3.35 with math functions)
_FLOOR = {"sqlite": "CAST(v AS INTEGER) - (v < CAST(v AS INTEGER))", "postgresql": "floor(v)::bigint"}

def _first_last(table: str) -> str:
    """The ON CONFLICT assignments that widen ``first_utc`` / ``last_utc`` of a row of ``table``."""
    return (f"first_utc = CASE WHEN excluded.first_utc < {table}.first_utc THEN excluded.first_utc "
            f"ELSE {table}.first_utc END, "
            f"last_utc = CASE WHEN excluded.last_utc > {table}.last_utc THEN excluded.last_utc "
            f"ELSE {table}.last_utc END")


def _add_bins(table: str) -> str:
    """The ON CONFLICT assignments of a signal-bin table (``samples``, ``sum_dbm``, ``max_dbm``)."""
    return (f"samples = {table}.samples + excluded.samples, "
            f"sum_dbm = {table}.sum_dbm + excluded.sum_dbm, "
            f"max_dbm = CASE WHEN excluded.max_dbm > {table}.max_dbm THEN excluded.max_dbm "
            f"ELSE {table}.max_dbm END")


_METRIC_ROWS = " UNION ALL ".join(f"SELECT '{m}' AS metric" for m in METRICS)
_METRIC_VALUE = "CASE m.metric " + " ".join(f"WHEN '{m}' THEN s.{m}" for m in METRICS) + " END"
#: the new samples' key, metric and value, one row per sample x metric (``{new}``: which samples)
_VALUES = (f"SELECT {_KEY_SQL}, m.metric AS metric, {_METRIC_VALUE} AS v "
           f"FROM samples s CROSS JOIN ({_METRIC_ROWS}) m WHERE {{new}}")

_DAYS = (
    f"INSERT INTO sample_days ({', '.join(KEY)}, samples, first_utc, last_utc) "
    f"SELECT {_KEY_SQL}, COUNT(*), MIN(time_utc), MAX(time_utc) FROM samples WHERE {{new}} "
    f"GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY {_ORDER} "
    "ON CONFLICT (day, kato, operator_mcc, operator_mnc, status, technology) DO UPDATE SET "
    "samples = sample_days.samples + excluded.samples, " + _first_last("sample_days"))
_SIGNAL = (
    f"INSERT INTO sample_signal_days ({', '.join(KEY)}, metric, bin_dbm, samples, sum_dbm, max_dbm) "
    f"SELECT {', '.join(KEY)}, metric, {{floor}}, COUNT(*), SUM(v), MAX(v) FROM ({_VALUES}) x "
    "WHERE {binned} "
    f"GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY {_ORDER}, 7, 8 "
    "ON CONFLICT (day, kato, operator_mcc, operator_mnc, status, technology, metric, bin_dbm) DO UPDATE SET "
    + _add_bins("sample_signal_days"))
_MONTHS = (
    f"INSERT INTO sample_months ({', '.join(MONTH_KEY)}, samples, day_mask, first_utc, last_utc) "
    "SELECT kato, operator_mcc, operator_mnc, substr(day, 1, 7), status, technology, SUM(n), "
    "SUM(1 << (CAST(substr(day, 9, 2) AS INTEGER) - 1)), MIN(f), MAX(l) FROM ("
    f"SELECT {_KEY_SQL}, COUNT(*) AS n, MIN(time_utc) AS f, MAX(time_utc) AS l FROM samples WHERE {{new}} "
    "GROUP BY 1, 2, 3, 4, 5, 6) x GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 4, 1, 2, 3, 5, 6 "
    "ON CONFLICT (month, kato, operator_mcc, operator_mnc, status, technology) DO UPDATE SET "
    "samples = sample_months.samples + excluded.samples, "
    "day_mask = sample_months.day_mask | excluded.day_mask, " + _first_last("sample_months"))
_SIGNAL_MONTHS = (
    f"INSERT INTO sample_signal_months ({', '.join(MONTH_KEY)}, metric, bin_dbm, samples, sum_dbm, max_dbm) "
    "SELECT kato, operator_mcc, operator_mnc, substr(day, 1, 7), status, technology, metric, {floor}, COUNT(*), "
    f"SUM(v), MAX(v) FROM ({_VALUES}) x WHERE {{binned}} "
    "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 4, 1, 2, 3, 5, 6, 7, 8 "
    "ON CONFLICT (month, kato, operator_mcc, operator_mnc, status, technology, metric, bin_dbm) DO UPDATE SET "
    + _add_bins("sample_signal_months"))


def _per_engine(sql: str) -> dict[str, str]:
    """``sql`` with the engine's floor and binned-value expressions in place, per engine."""
    return {engine: sql.replace("{floor}", _FLOOR[engine]).replace("{binned}", _BINNED[engine]) for engine in _FLOOR}


#: (aggregate table, engine -> its upsert): each groups the ``samples`` rows that ``{new}`` (a
#: :class:`NewSamples` condition, evaluated once per statement) selects and adds them to the table.
#: Keep every aggregate of the samples here, so that recording and pushing maintain all of them.
UPSERTS: list[tuple[str, dict[str, str]]] = [
    ("sample_days", _per_engine(_DAYS)),
    ("sample_signal_days", _per_engine(_SIGNAL)),
    ("sample_months", _per_engine(_MONTHS)),
    ("sample_signal_months", _per_engine(_SIGNAL_MONTHS)),
]


@dataclass(frozen=True)
class NewSamples:
    """Which rows of ``samples`` a transaction has just inserted: an SQL condition on the table's
    columns (``?`` placeholders) and its parameters. Build one with the class methods."""

    condition: str
    params: tuple

    @classmethod
    def seq_range(cls, session_id: str, first: int, last: int) -> "NewSamples":
        """The samples of records ``first``..``last`` of one session (index ``samples_session``): only
        when the transaction inserted every record of that range."""
        return cls("session_id = ? AND seq BETWEEN ? AND ?", (session_id, int(first), int(last)))

    @classmethod
    def ids(cls, engine: str, record_ids: Iterable[str]) -> "NewSamples":
        """The samples of these record ids (one parameter: an array on PostgreSQL, a JSON list on SQLite)."""
        ids = sorted(record_ids)
        if engine == "postgresql":
            return cls("record_id = ANY(?)", (ids,))
        return cls("record_id IN (SELECT value FROM json_each(?))", (json.dumps(ids),))

    @classmethod
    def one(cls, record_id: str) -> "NewSamples":
        """The sample of one record."""
        return cls("record_id = ?", (record_id,))


def statements(engine: str, new: NewSamples) -> list[tuple[str, tuple]]:
    """(SQL, parameters) of every aggregate upsert for the samples ``new`` selects, in :data:`UPSERTS` order."""
    if engine not in _FLOOR:
        raise ValueError(f"aggregates: no upserts for engine {engine!r}; known: {', '.join(_FLOOR)}")
    return [(sql[engine].replace("{new}", new.condition), new.params) for _table, sql in UPSERTS]


def add_new_samples(tx: Any, engine: str, new: NewSamples) -> None:
    """Add the samples ``new`` selects to every aggregate (daily and monthly), inside transaction ``tx`` (a
    :class:`qamtu.store.Transaction`; the one that inserted them, so that they count exactly once)."""
    for sql, params in statements(engine, new):
        tx.execute(sql, params)


def rebuild(store) -> dict[str, int]:
    """Recompute the daily tables from the samples and their monthly roll-up from them, in one
    transaction of ``store`` (a :class:`qamtu.store.Store` or :class:`~qamtu.probe.store.SampleStore`):
    what ``qamtu db aggregate`` runs after samples were written by other means than recording or
    pushing (bulk loads, a restored dump). The SQL is the backfill of migrations 3 and 5 itself, so a
    rebuild equals an upgrade. Returns the row count of each of :data:`TABLES`."""
    from .schema import MIGRATIONS

    # the backfills of the migrations that create the aggregate tables, in migration order (by their
    # text, not their numbers: daily from the samples first, then the monthly roll-up from the days)
    backfill = [sql for m in MIGRATIONS for sql in m.statements(store.engine)
                if any(sql.lstrip().startswith(f"INSERT INTO {table} ") for table in TABLES)]
    with store.transaction("rebuilding the sample aggregates") as tx:
        for table in reversed(TABLES):
            tx.execute(f"DELETE FROM {table}")
        for sql in backfill:
            tx.execute(sql)
    return {table: int(store.scalar(f"SELECT COUNT(*) FROM {table}")) for table in TABLES}


__all__ = ["METRICS", "KEY", "MONTH_KEY", "TABLES", "UPSERTS", "NewSamples", "add_new_samples", "statements", "rebuild"]
