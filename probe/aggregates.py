"""Daily aggregates of samples: what any coverage rule set needs, without reading the samples again.

Migration 3 of the probe (``probe/sql/0003.*.sql``) creates two tables and fills them from the
samples a store already holds; from then on every transaction that adds samples adds to them:

* ``sample_days``: per settlement (``kato``; ``''`` when untagged) x operator (``operator_mcc``,
  ``operator_mnc``; ``''`` when unknown) x UTC ``day`` (``YYYY-MM-DD``) x ``status`` x ``technology``
  (``'none'`` when unknown): ``samples`` and the ``first_utc`` / ``last_utc`` sample times.
* ``sample_signal_days``: the same key x ``metric`` (each of :data:`METRICS`) x ``bin_dbm``, the floor
  of the value in whole dBm (1 dB bins): ``samples``, ``sum_dbm`` and ``max_dbm`` of the values in
  the bin.

Migration 4 (``probe/sql/0004.*.sql``) rolls both up per UTC month (``month``, ``YYYY-MM``):
``sample_months`` (with ``day_mask``: bit ``d - 1`` set when day ``d`` of the month has samples of
the key, so the distinct days of any set of keys are the bits of their OR) and
``sample_signal_months`` (the same 1 dB bins). A classification reads its period's whole months
there and only the days of a partial first or last month from the daily tables: a year's window
reads twelve rows where it read 365. The monthly rows are written in the same transactions as the
daily ones (:meth:`DailyAggregates.statements`; :data:`MONTHLY_UPSERTS` for writers that aggregate
in SQL from the new sample rows).

A rule-set threshold on a whole number of dBm (``value < -110``) is evaluated exactly from the
bins (``floor(v) < T`` exactly when ``v < T`` for an integer ``T``), the best value is exact
(``max_dbm``), and medians are exact for whole-dBm readings (what AT+CESQ and most modems report)
and within the 1 dB bin otherwise (the bin's mean stands for its values). Speed tests are not
aggregated: a few per hour of driving (one per 5-15 min against 3,600 samples), the classification
reads them directly.

:class:`DailyAggregates` collects rows of one transaction and writes them with one upsert per
table (:meth:`DailyAggregates.write`); both engines take the same SQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

#: signal columns binned per technology: every metric a rule set may name (``mapping.rules.SignalRule``)
METRICS = ("rsrp_dbm", "rscp_dbm", "rssi_dbm", "nr_rsrp_dbm")
KEY = ("kato", "operator_mcc", "operator_mnc", "day", "status", "technology")
MONTH_KEY = ("kato", "operator_mcc", "operator_mnc", "month", "status", "technology")
#: the aggregate tables, daily then monthly (what :func:`rebuild` recomputes and counts)
TABLES = ("sample_days", "sample_signal_days", "sample_months", "sample_signal_months")
#: values outside this open interval (dBm) are not binned (the migration's backfill says the same)
LIMIT_DBM = 1000.0

_UPSERT_DAYS = (
    f"INSERT INTO sample_days ({', '.join(KEY)}, samples, first_utc, last_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day, kato, operator_mcc, operator_mnc, status, technology) DO UPDATE SET "
    "samples = sample_days.samples + excluded.samples, "
    "first_utc = CASE WHEN excluded.first_utc < sample_days.first_utc THEN excluded.first_utc "
    "ELSE sample_days.first_utc END, "
    "last_utc = CASE WHEN excluded.last_utc > sample_days.last_utc THEN excluded.last_utc "
    "ELSE sample_days.last_utc END")
_UPSERT_SIGNAL = (
    f"INSERT INTO sample_signal_days ({', '.join(KEY)}, metric, bin_dbm, samples, sum_dbm, max_dbm) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day, kato, operator_mcc, operator_mnc, status, technology, metric, bin_dbm) DO UPDATE SET "
    "samples = sample_signal_days.samples + excluded.samples, "
    "sum_dbm = sample_signal_days.sum_dbm + excluded.sum_dbm, "
    "max_dbm = CASE WHEN excluded.max_dbm > sample_signal_days.max_dbm THEN excluded.max_dbm "
    "ELSE sample_signal_days.max_dbm END")


# --------------------------------------------------------------------------- monthly roll-up (migration 4)
_UPSERT_MONTHS = (
    f"INSERT INTO sample_months ({', '.join(MONTH_KEY)}, samples, day_mask, first_utc, last_utc) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (month, kato, operator_mcc, operator_mnc, status, technology) DO UPDATE SET "
    "samples = sample_months.samples + excluded.samples, "
    "day_mask = sample_months.day_mask | excluded.day_mask, "
    "first_utc = CASE WHEN excluded.first_utc < sample_months.first_utc THEN excluded.first_utc "
    "ELSE sample_months.first_utc END, "
    "last_utc = CASE WHEN excluded.last_utc > sample_months.last_utc THEN excluded.last_utc "
    "ELSE sample_months.last_utc END")
_UPSERT_SIGNAL_MONTHS = (
    f"INSERT INTO sample_signal_months ({', '.join(MONTH_KEY)}, metric, bin_dbm, samples, sum_dbm, max_dbm) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (month, kato, operator_mcc, operator_mnc, status, technology, metric, bin_dbm) DO UPDATE SET "
    "samples = sample_signal_months.samples + excluded.samples, "
    "sum_dbm = sample_signal_months.sum_dbm + excluded.sum_dbm, "
    "max_dbm = CASE WHEN excluded.max_dbm > sample_signal_months.max_dbm THEN excluded.max_dbm "
    "ELSE sample_signal_months.max_dbm END")


def day_bit(day: str) -> int:
    """The ``day_mask`` bit of ``day`` (``YYYY-MM-DD``) in its month's row: ``1 << (d - 1)``."""
    return 1 << (int(day[8:10]) - 1)


def _months(days: dict[tuple, list], signal: dict[tuple, list]) -> tuple[dict[tuple, list], dict[tuple, list]]:
    """The daily rows of :class:`DailyAggregates` rolled up per month (key: ``day`` -> ``day[:7]``)."""
    months: dict[tuple, list] = {}
    for (k, mcc, mnc, day, st, tech), (n, first, last) in days.items():
        key = (k, mcc, mnc, day[:7], st, tech)
        m = months.get(key)
        if m is None:
            months[key] = [n, day_bit(day), first, last]
        else:
            m[0] += n
            m[1] |= day_bit(day)
            m[2] = min(m[2], first)
            m[3] = max(m[3], last)
    sig: dict[tuple, list] = {}
    for (k, mcc, mnc, day, st, tech, metric, b), (n, total, best) in signal.items():
        key = (k, mcc, mnc, day[:7], st, tech, metric, b)
        s = sig.get(key)
        if s is None:
            sig[key] = [n, total, best]
        else:
            s[0] += n
            s[1] += total
            s[2] = max(s[2], best)
    return months, sig


#: the grouping key of a sample row, as migration 3's backfill writes it (with ``day``)
_KEY_SQL = ("COALESCE(kato, '') AS kato, COALESCE(operator_mcc, '') AS operator_mcc, "
            "COALESCE(operator_mnc, '') AS operator_mnc, substr(time_utc, 1, 10) AS day, status, "
            "COALESCE(technology, 'none') AS technology")
#: a binned value (finite, within LIMIT_DBM) and its floor, per engine, as migration 3 bins them
_BINNED = {"sqlite": f"typeof(v) IN ('real', 'integer') AND v > -{LIMIT_DBM:.0f} AND v < {LIMIT_DBM:.0f}",
           "postgresql": f"v > -{LIMIT_DBM:.0f} AND v < {LIMIT_DBM:.0f}"}   # NaN sorts above every number there
_FLOOR = {"sqlite": "CAST(v AS INTEGER) - (v < CAST(v AS INTEGER))", "postgresql": "floor(v)::bigint"}
_MONTHS_FROM_SAMPLES = (
    f"INSERT INTO sample_months ({', '.join(MONTH_KEY)}, samples, day_mask, first_utc, last_utc) "
    "SELECT kato, operator_mcc, operator_mnc, substr(day, 1, 7), status, technology, SUM(n), "
    "SUM(1 << (CAST(substr(day, 9, 2) AS INTEGER) - 1)), MIN(f), MAX(l) FROM ("
    f"SELECT {_KEY_SQL}, COUNT(*) AS n, MIN(time_utc) AS f, MAX(time_utc) AS l FROM samples WHERE {{new}} "
    "GROUP BY 1, 2, 3, 4, 5, 6) x WHERE true GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 4, 1, 2, 3, 5, 6"
    + _UPSERT_MONTHS[_UPSERT_MONTHS.index(" ON CONFLICT"):])
_METRIC_ROWS = " UNION ALL ".join(f"SELECT '{m}' AS metric" for m in METRICS)
_METRIC_VALUE = "CASE m.metric " + " ".join(f"WHEN '{m}' THEN s.{m}" for m in METRICS) + " END"
_SIGNAL_MONTHS_FROM_SAMPLES = (
    f"INSERT INTO sample_signal_months ({', '.join(MONTH_KEY)}, metric, bin_dbm, samples, sum_dbm, max_dbm) "
    "SELECT kato, operator_mcc, operator_mnc, substr(day, 1, 7), status, technology, metric, {floor}, COUNT(*), "
    f"SUM(v), MAX(v) FROM (SELECT {_KEY_SQL}, m.metric AS metric, {_METRIC_VALUE} AS v "
    f"FROM samples s CROSS JOIN ({_METRIC_ROWS}) m WHERE {{new}}) x WHERE {{binned}} "
    "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 4, 1, 2, 3, 5, 6, 7, 8"
    + _UPSERT_SIGNAL_MONTHS[_UPSERT_SIGNAL_MONTHS.index(" ON CONFLICT"):])

#: (monthly table, engine -> its upsert) for writers that aggregate in SQL: each statement groups
#: the ``samples`` rows that ``{new}`` (an SQL condition on ``samples`` with ``?`` placeholders,
#: written once per statement, so it takes the condition's parameters once) selects, and adds them
#: to the monthly roll-up, in the table's key order. The same rows as
#: :meth:`DailyAggregates.statements` writes for those samples (and as migration 4's backfill).
MONTHLY_UPSERTS: list[tuple[str, dict[str, str]]] = [
    ("sample_months", {engine: _MONTHS_FROM_SAMPLES for engine in _FLOOR}),
    ("sample_signal_months", {engine: _SIGNAL_MONTHS_FROM_SAMPLES.replace("{floor}", _FLOOR[engine])
                              .replace("{binned}", _BINNED[engine]) for engine in _FLOOR}),
]


def monthly_upserts(engine: str, new: str) -> list[str]:
    """The statements of :data:`MONTHLY_UPSERTS` for ``engine`` with the condition ``new`` in place."""
    if engine not in _FLOOR:
        raise ValueError(f"aggregates: no upserts for engine {engine!r}; known: {', '.join(_FLOOR)}")
    return [sql[engine].replace("{new}", new) for _table, sql in MONTHLY_UPSERTS]


# --------------------------------------------------------------------------- daily rows of one transaction
def _dbm(value: Any) -> float | None:
    """A finite signal value in dBm within :data:`LIMIT_DBM`, else None (not binned)."""
    if value is None or isinstance(value, (bool, str)):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and -LIMIT_DBM < v < LIMIT_DBM else None


def _text(value: Any, default: str) -> str:
    return default if value is None else str(value)


@dataclass
class DailyAggregates:
    """Aggregates of some samples, to be added to the tables in the caller's transaction."""

    days: dict[tuple, list] = field(default_factory=dict)
    signal: dict[tuple, list] = field(default_factory=dict)

    def add(self, time_utc: str, row: dict[str, Any]) -> None:
        """Count one sample: ``time_utc`` as stored (``YYYY-MM-DDTHH:MM:SS.ffffffZ``), ``row`` its
        projection columns (``probe.schema.SAMPLE_COLUMNS``)."""
        key = (_text(row.get("kato"), ""), _text(row.get("operator_mcc"), ""), _text(row.get("operator_mnc"), ""),
               time_utc[:10], _text(row.get("status"), ""), _text(row.get("technology"), "none"))
        d = self.days.get(key)
        if d is None:
            self.days[key] = [1, time_utc, time_utc]
        else:
            d[0] += 1
            d[1] = min(d[1], time_utc)
            d[2] = max(d[2], time_utc)
        for metric in METRICS:
            v = _dbm(row.get(metric))
            if v is None:
                continue
            skey = (*key, metric, math.floor(v))
            s = self.signal.get(skey)
            if s is None:
                self.signal[skey] = [1, v, v]
            else:
                s[0] += 1
                s[1] += v
                s[2] = max(s[2], v)

    def add_rows(self, rows: Iterable[tuple[str, dict[str, Any]]]) -> "DailyAggregates":
        for t, row in rows:
            self.add(t, row)
        return self

    def __len__(self) -> int:
        return len(self.days)

    def statements(self) -> list[tuple[str, list[tuple]]]:
        """(SQL, rows) for ``executemany``: the upserts of the daily tables, then of their monthly
        roll-up (empty when nothing was added)."""
        if not self.days:
            return []
        out = [(_UPSERT_DAYS, [(*k, *v) for k, v in sorted(self.days.items())])]
        if self.signal:
            out.append((_UPSERT_SIGNAL, [(*k, *v) for k, v in sorted(self.signal.items())]))
        months, signal = _months(self.days, self.signal)
        out.append((_UPSERT_MONTHS, [(*k, *v) for k, v in sorted(months.items())]))
        if signal:
            out.append((_UPSERT_SIGNAL_MONTHS, [(*k, *v) for k, v in sorted(signal.items())]))
        return out

    def write(self, tx) -> None:
        """Add these aggregates to the tables inside transaction ``tx`` (a :class:`qamtu.store.Transaction`)."""
        for sql, rows in self.statements():
            tx.executemany(sql, rows)


def rebuild(store) -> dict[str, int]:
    """Recompute the daily tables from the samples and their monthly roll-up from them, in one
    transaction of ``store`` (a :class:`qamtu.store.Store` or :class:`~qamtu.probe.store.SampleStore`):
    what ``qamtu db aggregate`` runs after samples were written by other means than recording or
    pushing (bulk loads, a restored dump). The SQL is the backfill of migrations 3 and 4 itself, so a
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


__all__ = ["DailyAggregates", "METRICS", "KEY", "MONTH_KEY", "MONTHLY_UPSERTS", "TABLES", "day_bit",
           "monthly_upserts", "rebuild"]
