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

_DAYS = (
    f"INSERT INTO sample_days ({', '.join(KEY)}, samples, first_utc, last_utc) "
    f"SELECT {_KEY_SQL}, COUNT(*), MIN(time_utc), MAX(time_utc) FROM samples WHERE {{new}} "
    f"GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY {_ORDER} "
    "ON CONFLICT (day, kato, operator_mcc, operator_mnc, status, technology) DO UPDATE SET "
    "samples = sample_days.samples + excluded.samples, "
    "first_utc = CASE WHEN excluded.first_utc < sample_days.first_utc THEN excluded.first_utc "
    "ELSE sample_days.first_utc END, "
    "last_utc = CASE WHEN excluded.last_utc > sample_days.last_utc THEN excluded.last_utc "
    "ELSE sample_days.last_utc END")

_METRIC_ROWS = " UNION ALL ".join(f"SELECT '{m}' AS metric" for m in METRICS)
_METRIC_VALUE = "CASE m.metric " + " ".join(f"WHEN '{m}' THEN s.{m}" for m in METRICS) + " END"
_SIGNAL = (
    f"INSERT INTO sample_signal_days ({', '.join(KEY)}, metric, bin_dbm, samples, sum_dbm, max_dbm) "
    f"SELECT {', '.join(KEY)}, metric, {{floor}}, COUNT(*), SUM(v), MAX(v) FROM ("
    f"SELECT {_KEY_SQL}, m.metric AS metric, {_METRIC_VALUE} AS v "
    f"FROM samples s CROSS JOIN ({_METRIC_ROWS}) m WHERE {{new}}) x "
    "WHERE {binned} "
    f"GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY {_ORDER}, 7, 8 "
    "ON CONFLICT (day, kato, operator_mcc, operator_mnc, status, technology, metric, bin_dbm) DO UPDATE SET "
    "samples = sample_signal_days.samples + excluded.samples, "
    "sum_dbm = sample_signal_days.sum_dbm + excluded.sum_dbm, "
    "max_dbm = CASE WHEN excluded.max_dbm > sample_signal_days.max_dbm THEN excluded.max_dbm "
    "ELSE sample_signal_days.max_dbm END")

#: (aggregate table, engine -> its upsert): each groups the ``samples`` rows that ``{new}`` (a
#: :class:`NewSamples` condition, evaluated once per statement) selects and adds them to the table.
#: Keep every aggregate of the samples here, so that recording and pushing maintain all of them.
UPSERTS: list[tuple[str, dict[str, str]]] = [
    ("sample_days", {engine: _DAYS for engine in _FLOOR}),
    ("sample_signal_days", {engine: _SIGNAL.replace("{floor}", _FLOOR[engine]).replace("{binned}", _BINNED[engine])
                            for engine in _FLOOR}),
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
    """Add the samples ``new`` selects to every daily aggregate, inside transaction ``tx`` (a
    :class:`qamtu.store.Transaction`; the one that inserted them, so that they count exactly once)."""
    for sql, params in statements(engine, new):
        tx.execute(sql, params)


def rebuild(store) -> dict[str, int]:
    """Recompute both tables from the samples in one transaction of ``store`` (a :class:`qamtu.store.Store`
    or :class:`~qamtu.probe.store.SampleStore`): what ``qamtu db aggregate`` runs after samples were
    written by other means than recording or pushing (bulk loads, a restored dump). The SQL is the
    backfill of migration 3 itself, so a rebuild equals an upgrade. Returns the row counts."""
    from .schema import MIGRATIONS

    backfill = [sql for sql in MIGRATIONS[2].statements(store.engine) if sql.lstrip().upper().startswith("INSERT")]
    with store.transaction("rebuilding the daily sample aggregates") as tx:
        tx.execute("DELETE FROM sample_signal_days")
        tx.execute("DELETE FROM sample_days")
        for sql in backfill:
            tx.execute(sql)
    return {"sample_days": int(store.scalar("SELECT COUNT(*) FROM sample_days")),
            "sample_signal_days": int(store.scalar("SELECT COUNT(*) FROM sample_signal_days"))}


__all__ = ["METRICS", "KEY", "UPSERTS", "NewSamples", "add_new_samples", "statements", "rebuild"]
