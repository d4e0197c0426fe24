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
        """(SQL, rows) for ``executemany``: the upserts of both tables (empty when nothing was added)."""
        if not self.days:
            return []
        out = [(_UPSERT_DAYS, [(*k, *v) for k, v in sorted(self.days.items())])]
        if self.signal:
            out.append((_UPSERT_SIGNAL, [(*k, *v) for k, v in sorted(self.signal.items())]))
        return out

    def write(self, tx) -> None:
        """Add these aggregates to the tables inside transaction ``tx`` (a :class:`qamtu.store.Transaction`)."""
        for sql, rows in self.statements():
            tx.executemany(sql, rows)


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


__all__ = ["DailyAggregates", "METRICS", "KEY", "rebuild"]
