"""Coverage from a store: read the columns the classification needs, classify, build map and exports.

This is the glue between the probe's store and :mod:`qamtu.mapping` (which never reads a store):
``qamtu map coverage``, ``qamtu coverage classify`` and ``qamtu report districts`` call it, and so
can ``qamtu demo``::

    from qamtu.reports.coverage import coverage_map_from_store
    from qamtu.reports.districts import district_report_from_store
    coverage_map_from_store("qamtu.db", "map.html", offline=True)
    district_report_from_store("qamtu.db", "summary.xlsx", png_dir="districts/")

Reading: only the needed columns are selected, in chunks, through the store's public readers
(:meth:`qamtu.store.Store.iter_rows`, and :meth:`~qamtu.store.Store.read_parallel` above
:data:`PARALLEL_ROWS`), so ten million samples load in seconds (``samples_frame`` selects every
column and is the reference this reader is tested against).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from ..mapping.classify import (TEST_GROUP_NEEDS, Classification, ClassificationError, classify, classify_daily,
                                parse_period)
from ..mapping.coverage_map import build_coverage_map
from ..mapping.exports import export_classification
from ..mapping.gazetteer import Gazetteer
from ..mapping.hexes import hex_signal
from ..mapping.rules import RuleSet, load_rules
from ..probe.schema import SAMPLE_COLUMNS, SPEEDTEST_COLUMNS
from ..probe.store import SampleStore, parse_operator, sample_store
from .common import is_synthetic
from .coverage_sql import cells_sql, count_sql, day_counts_sql, signal_sql, speedtests_sql
from .errors import ReportError

if TYPE_CHECKING:
    from concurrent.futures import Future

SAMPLE_READ = ("status", "operator_mcc", "operator_mnc", "technology", "rsrp_dbm", "rscp_dbm", "rssi_dbm", "kato",
               "lat", "lon")
SPEEDTEST_READ = ("operator_mcc", "operator_mnc", "technology", "method", "valid", "consumer_comparable_only",
                  "download_mbps", "upload_mbps", "failure_cause", "kato")
CATEGORICAL = ("status", "operator_mcc", "operator_mnc", "technology", "kato", "method", "failure_cause")
# the stored 'YYYY-MM-DDTHH:MM:SS.ffffffZ' without its 'Z', parsed by numpy (exact to the microsecond;
# six times faster than SQLite's strftime or pandas' to_datetime with a format)
_TIME = "substr(time_utc, 1, 26) AS t_us"

Progress = Callable[[str, int, int], None]
SYNTHETIC_NOTE = "Синтетикалық деректер, өлшенбеген / Синтетические данные, не измерения ({n} сессия / сессий)"


@dataclass
class CoverageInputs:
    samples: pd.DataFrame
    speedtests: pd.DataFrame
    rules: RuleSet
    period: Any
    operators: list[str] | None
    synthetic_sessions: int = 0
    #: what :func:`read_daily` read from the aggregates, when classified from them (see
    #: :func:`qamtu.mapping.classify.classify_daily`): cells, signal statistics, day counts, speed-test groups
    days: pd.DataFrame | None = None
    signal: pd.DataFrame | None = None
    day_counts: pd.DataFrame | None = None
    test_groups: pd.DataFrame | None = None
    speedtests_in_period: int = 0


# Columns sent by SQLite as small integers instead of text (fewer, cheaper Python objects: the
# transfer, not SQLite, is what costs at ten million rows). A value outside the vocabulary comes as
# its own text, so decoding is exact whatever the store holds.
_VOCAB = {"status": ("ok", "no_service", "modem_lost"),
          "technology": ("none", "GSM", "UMTS", "LTE", "NR-NSA", "NR-SA")}


def _select(column: str) -> str:
    """SQL expression that sends ``column`` compactly (see :func:`_decode`)."""
    if column in _VOCAB:
        whens = " ".join(f"WHEN '{v}' THEN {i}" for i, v in enumerate(_VOCAB[column]))
        return f"CASE {column} {whens} ELSE {column} END AS {column}"
    if column == "kato":
        return ("CASE WHEN kato GLOB '[1-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]' THEN CAST(kato AS INTEGER) "
                "ELSE kato END AS kato")
    if column == "operator":
        return ("CASE WHEN operator_mcc IS NULL OR operator_mnc IS NULL THEN NULL "
                "WHEN operator_mcc GLOB '[0-9][0-9][0-9]' AND operator_mnc GLOB '[0-9][0-9]' "
                "THEN 100000 + CAST(operator_mcc AS INTEGER) * 100 + CAST(operator_mnc AS INTEGER) "
                "ELSE operator_mcc || '|' || operator_mnc END AS operator")
    return column


def _decode_value(column: str, v: Any) -> Any:
    if isinstance(v, str):
        return v
    i = int(v)
    if column in _VOCAB:
        return _VOCAB[column][i]
    if column == "kato":
        return f"{i:09d}"
    if column == "operator":
        return f"{(i - 100000) // 100:03d}|{i % 100:02d}"
    return v


def _from_codes(codes: np.ndarray, names: list) -> pd.Categorical:
    """Categorical from codes (-1 = missing) and one name per code; names may repeat."""
    if len(set(names)) == len(names):
        return pd.Categorical.from_codes(codes, categories=names)
    table = np.asarray([*names, None], dtype=object)
    return pd.Categorical(table[np.where(codes < 0, len(names), codes)])


def _decode(column: str, values: pd.Series) -> pd.Categorical:
    """Codes (or texts) from :func:`_select` back to a categorical of the stored texts."""
    cat = pd.Categorical(values)
    return _from_codes(cat.codes, [_decode_value(column, c) for c in cat.categories])


def _chunks(batches, names: list[str], encoded: bool):
    """Frames from lists of rows of :func:`_read`'s query, decoded; yields (frame, rows so far)."""
    done = 0
    for rows in batches:
        df = pd.DataFrame.from_records(rows, columns=names, coerce_float=True)
        done += len(rows)
        del rows
        df["t_us"] = np.array(df["t_us"].tolist(), dtype="datetime64[us]")   # per chunk: no strings kept
        for c in names[1:]:
            if encoded and (c in _VOCAB or c in ("kato", "operator")):
                df[c] = _decode(c, df[c])
            elif c in CATEGORICAL:
                df[c] = df[c].astype("category")
        yield df, done


#: rows above which a SQLite store is read by two processes (the Python side of the transfer is
#: the bottleneck; two cores halve it). Override with QAMTU_READ_WORKERS=1 to read in one process.
PARALLEL_ROWS = 2_000_000


def _workers(total: int) -> int:
    import os

    want = os.environ.get("QAMTU_READ_WORKERS")
    if want:
        return max(1, int(want))
    return min(2, os.cpu_count() or 1) if total >= PARALLEL_ROWS else 1


class _Convert:
    """Picklable converter for :meth:`qamtu.store.Store.read_parallel`: a slice's rows -> one decoded frame."""

    def __init__(self, names: list[str], encoded: bool) -> None:
        self.names, self.encoded = names, encoded

    def __call__(self, batches) -> pd.DataFrame:
        return _concat([df for df, _ in _chunks(batches, self.names, self.encoded)], self.names)


def _concat(parts: list[pd.DataFrame], names: list[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in names})
    if len(parts) == 1:
        return parts[0]
    data = {}
    for c in names:
        if isinstance(parts[0][c].dtype, pd.CategoricalDtype):
            data[c] = pd.Categorical(union_categoricals([p[c] for p in parts], ignore_order=True))
        else:
            data[c] = np.concatenate([p[c].to_numpy() for p in parts])
    return pd.DataFrame(data)


def _latest(store: SampleStore) -> Optional[datetime]:
    latest = store.scalar("SELECT MAX(t) FROM (SELECT MAX(time_utc) AS t FROM samples "
                          "UNION ALL SELECT MAX(time_utc) FROM speedtests) x")
    if latest is None:
        return None
    return pd.Timestamp(latest).to_pydatetime().astimezone(timezone.utc)


def _operator_condition(pairs: list[tuple[str, str]] | None) -> tuple[str, list[str]]:
    """`` AND (...)`` limiting rows to the operators ``pairs`` (MCC, MNC), and its parameters; none when None."""
    if not pairs:
        return "", []
    return (" AND (" + " OR ".join("(operator_mcc = ? AND operator_mnc = ?)" for _ in pairs) + ")",
            [x for p in pairs for x in p])


def _time_condition(start: datetime, end: datetime, pairs: list[tuple[str, str]] | None) -> tuple[str, list[Any]]:
    """``time_utc`` in [``start``, ``end``) of the operators ``pairs`` (all when None): condition and parameters."""
    ops, op_params = _operator_condition(pairs)
    return ("time_utc >= ? AND time_utc < ?" + ops,
            [start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), end.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), *op_params])


def _read(store: SampleStore, table: str, columns: tuple[str, ...], start: datetime, end: datetime,
          operators: list[str] | None, progress: Progress | None, chunk: int = 500_000) -> pd.DataFrame:
    known = SAMPLE_COLUMNS if table == "samples" else SPEEDTEST_COLUMNS
    missing = [c for c in columns if c not in known]
    if missing:
        raise ReportError(f"{store.label}: table {table} has no column(s) {', '.join(missing)}")
    where, params = _time_condition(start, end, [parse_operator(op) for op in operators] if operators else None)
    cond = " WHERE " + where
    total = store.scalar(f"SELECT COUNT(*) FROM {table}{cond}", params)
    rows_all = store.scalar(f"SELECT COUNT(*) FROM {table}")
    # a period holding much of the table is read in table order (sequential pages): through the time
    # index SQLite would visit the rows in time order, page by page at random, twice as slow
    hint = " NOT INDEXED" if total >= 0.25 * rows_all else ""
    encoded = table == "samples"
    sent = [c for c in columns if not (encoded and c in ("operator_mcc", "operator_mnc"))]
    if encoded and "operator_mcc" in columns:
        sent.append("operator")
    exprs = [_select(c) for c in sent] if encoded else list(sent)
    sql = f"SELECT {_TIME}, {', '.join(exprs)} FROM {table}{hint}{cond}"
    names = ["t_us", *sent]
    workers = _workers(total)
    if workers > 1 and store.can_read_parallel:
        done = 0

        def counted(rows: int) -> None:
            nonlocal done
            done += rows
            if progress:
                progress(table, done, total)

        parts = [p for p in store.read_parallel(table, sql, params, _Convert(names, encoded), workers=workers,
                                                progress=counted, chunk=chunk) if len(p)]
    else:
        parts = []
        for df, done in _chunks(store.iter_rows(sql, params, chunk), names, encoded):
            parts.append(df)
            if progress:
                progress(table, done, total)
    df = _concat(parts, names)
    times = df["t_us"].to_numpy(dtype="datetime64[us]") if len(df) else np.array([], dtype="datetime64[us]")
    df["time_utc"] = pd.DatetimeIndex(times).tz_localize("UTC")
    df = df.drop(columns=["t_us"])
    if "operator" in df.columns:
        op = df.pop("operator").astype("category")
        cats = [c.split("|", 1) for c in op.cat.categories]
        codes = op.cat.codes.to_numpy()
        df["operator_mcc"] = _from_codes(codes, [c[0] for c in cats])
        df["operator_mnc"] = _from_codes(codes, [c[1] for c in cats])
    for c in ("rsrp_dbm", "rscp_dbm", "rssi_dbm", "lat", "lon", "download_mbps", "upload_mbps"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in ("valid", "consumer_comparable_only"):
        if c in df.columns:
            df[c] = df[c].fillna(0).astype(bool)
    return df


def _read_generic(store: SampleStore, period: str | None, codes: list[str] | None, rules: RuleSet) -> CoverageInputs:
    """Any store (e.g. the PostgreSQL one) through its public frame API: slower, same result."""
    frames = []
    for fn in (store.samples_frame, store.speedtests_frame):
        parts = [fn(operator=op) for op in codes] if codes else [fn()]
        frames.append(pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0])
    samples, tests = frames
    times = [t for t in (samples["time_utc"].max() if len(samples) else None,
                         tests["time_utc"].max() if len(tests) else None) if t is not None and not pd.isna(t)]
    per = parse_period(period, rules, max(times).to_pydatetime() if times else None)
    keep = lambda df: df[(df["time_utc"] >= pd.Timestamp(per.start)) & (df["time_utc"] < pd.Timestamp(per.end))]  # noqa: E731
    samples = keep(samples)[["time_utc", *SAMPLE_READ]].reset_index(drop=True)
    tests = keep(tests)[["time_utc", *SPEEDTEST_READ]].reset_index(drop=True)
    return CoverageInputs(samples, tests, rules, per, codes, _synthetic_sessions(store))


def read_inputs(store: SampleStore, *, period: str | None = None, operators: list[str] | None = None,
                rules: RuleSet | None = None, progress: Progress | None = None, fast: bool = True) -> CoverageInputs:
    """Samples and speed tests of ``period`` (default: the rule set's window up to the latest record).

    A SQLite store is read with the fast column-limited reader (its SQL is SQLite's); any other store
    (or ``fast=False``) through ``samples_frame`` / ``speedtests_frame``."""
    rules = rules or load_rules()
    codes = ["-".join(parse_operator(op)) for op in operators] if operators else None
    store = sample_store(store)
    if not (fast and store.engine == "sqlite"):
        return _read_generic(store, period, codes, rules)
    per = parse_period(period, rules, _latest(store))
    samples = _read(store, "samples", SAMPLE_READ, per.start, per.end, codes, progress)
    tests = _read(store, "speedtests", SPEEDTEST_READ, per.start, per.end, codes, progress)
    return CoverageInputs(samples, tests, rules, per, codes, _synthetic_sessions(store))


_CELL_KEY = ("kato", "operator_mcc", "operator_mnc", "status", "technology")


@dataclass(frozen=True)
class PeriodParts:
    """Where the aggregates of a period are read: its whole UTC months (``months``: first and last
    ``YYYY-MM``, or None) from the monthly roll-up, its other days (``days``: ranges of first and
    last ``YYYY-MM-DD``, both included) from the daily tables."""

    months: tuple[str, str] | None
    days: tuple[tuple[str, str], ...]


def period_parts(first: date, last: date) -> PeriodParts:
    """Split the days ``first``..``last`` (both included) into whole months and edge days."""
    m0 = first if first.day == 1 else (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    after = last + timedelta(days=1)
    m1_end = after if after.day == 1 else after.replace(day=1)          # first day after the last whole month
    if m0 >= m1_end:
        return PeriodParts(None, ((str(first), str(last)),))
    days = []
    if first < m0:
        days.append((str(first), str(m0 - timedelta(days=1))))
    if m1_end <= last:
        days.append((str(m1_end), str(last)))
    return PeriodParts((str(m0)[:7], str(m1_end - timedelta(days=1))[:7]), tuple(days))


def _sources(parts: PeriodParts, pairs: list[tuple[str, str]] | None, extra: str = "",
             extra_params: tuple = ()) -> list[tuple[str, str, list[Any]]]:
    """(table kind 'months' or 'days', WHERE condition, parameters) of the parts of a period."""
    ops, op_params = _operator_condition(pairs)
    out = []
    if parts.months:
        out.append(("months", "month >= ? AND month <= ?" + ops + extra, [*parts.months, *op_params, *extra_params]))
    if parts.days:
        cond = "(" + " OR ".join("(day >= ? AND day <= ?)" for _ in parts.days) + ")"
        out.append(("days", cond + ops + extra, [*(x for r in parts.days for x in r), *op_params, *extra_params]))
    return out


def _synthetic_sessions(store: SampleStore) -> int:
    """Sessions written by probe.synthetic (or simulated by `qamtu demo`): their meta says so, and maps must."""
    return sum(1 for meta in store.session_metas().values() if is_synthetic(meta))


def _frame(store: SampleStore, query: tuple[str, list[Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    sql, params = query
    df = pd.DataFrame.from_records(store.rows(sql, params), columns=list(columns))
    for c in ("kato", "operator_mcc", "operator_mnc"):   # '' = untagged / unknown in the tables
        df[c] = df[c].astype(object).where(df[c] != "", None)
    return df


class _Beside:
    """Runs one reading beside the caller's: on PostgreSQL over a second, read-only connection in
    a thread (the server works on two cores meanwhile), on SQLite (or when the server refuses a
    second connection) in the caller's turn."""

    def __init__(self, store: SampleStore) -> None:
        self.store, self.other, self.pool = store, None, None
        if store.engine == "postgresql":
            from concurrent.futures import ThreadPoolExecutor

            from ..store import StoreError

            try:
                self.other = sample_store(store.url, read_only=True)
            except StoreError:   # e.g. max_connections reached: read on the one connection
                return
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="qamtu-coverage")

    def submit(self, fn: Callable[..., pd.DataFrame], *args: Any) -> Future[pd.DataFrame]:
        if self.pool is None:
            from concurrent.futures import Future

            done: Future[pd.DataFrame] = Future()
            done.set_result(fn(self.store, *args))
            return done
        return self.pool.submit(fn, self.other, *args)

    def __enter__(self) -> "_Beside":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        if self.other is not None:   # set together with the pool
            self.other.close()


def read_daily(store: SampleStore, *, period: str | None = None, operators: list[str] | None = None,
               rules: RuleSet | None = None) -> CoverageInputs:
    """The sample aggregates (:mod:`qamtu.probe.aggregates`) and the speed tests of ``period``
    (default: the rule set's window up to the latest record), reduced by the database to what
    ``rules`` needs per settlement x operator (:mod:`qamtu.reports.coverage_sql`, the same SQL on
    both engines); no sample is read. The period's whole months come from the monthly roll-up,
    its other days from the daily tables. On PostgreSQL the speed tests and the cells are reduced
    over a second read-only connection while the signal bins are (two server processes at once)."""
    rules = rules or load_rules()
    codes = ["-".join(parse_operator(op)) for op in operators] if operators else None
    store = sample_store(store)
    per = parse_period(period, rules, _latest(store))
    parts = period_parts(per.start.date(), (per.end - pd.Timedelta(days=1)).date())
    pairs = [parse_operator(op) for op in codes] if codes else None
    sources = _sources(parts, pairs)
    op_key = ("kato", "operator_mcc", "operator_mnc")
    where, params = _time_condition(per.start, per.end, pairs)
    with _Beside(store) as other:   # the signal bins here, the speed tests and the cells beside
        tests = other.submit(_frame, speedtests_sql(where, params, rules, store.engine),
                             (*op_key, *TEST_GROUP_NEEDS[3:]))
        cells = other.submit(_frame, cells_sql(sources, rules),
                             (*_CELL_KEY, "samples", "weak", "first_utc", "last_utc"))
        # distinct days of samples the rule set does not ignore: bits of the months' masks, days of the edges
        ignored = tuple(rules.mobile.ignore_status)
        not_ignored = f" AND status NOT IN ({', '.join('?' * len(ignored))})" if ignored else ""
        day_counts = _frame(store, day_counts_sql(_sources(parts, pairs, not_ignored, ignored)), (*op_key, "days"))
        signal = _frame(store, signal_sql(sources, rules, store.engine), (*op_key, "stem", "best", "median"))
        n_tests = store.scalar(*count_sql(where, params))
        test_groups, days = tests.result(), cells.result()
    samples = pd.DataFrame({"time_utc": pd.DatetimeIndex([], tz="UTC"), **{c: [] for c in SAMPLE_READ}})
    tests = pd.DataFrame({"time_utc": pd.DatetimeIndex([], tz="UTC"), **{c: [] for c in SPEEDTEST_READ}})
    return CoverageInputs(samples, tests, rules, per, codes, _synthetic_sessions(store), days=days, signal=signal,
                          day_counts=day_counts, test_groups=test_groups, speedtests_in_period=int(n_tests))


def classify_store(db: Path | str | SampleStore, *, period: str | None = None, operators: list[str] | None = None,
                   rules_path: Path | str | None = None, gazetteer: Gazetteer | None = None,
                   progress: Progress | None = None, keep_samples: bool = False,
                   from_samples: bool = False) -> tuple[Classification, CoverageInputs]:
    """Read a store and classify it. Returns the classification and the inputs read.

    The classification reads the daily aggregates and the speed tests (:func:`read_daily`), never
    the samples. ``keep_samples`` also reads the samples of the period (for the hexagon layer of a
    map) and keeps the speed tests; ``from_samples`` classifies from the samples themselves (the
    reference the aggregates are tested against)."""
    rules = load_rules(rules_path)
    g = gazetteer or Gazetteer.load()
    ctx = nullcontext(db) if not isinstance(db, (str, Path)) else sample_store(db, read_only=True)
    with ctx as store:
        if from_samples:
            inputs = read_inputs(store, period=period, operators=operators, rules=rules, progress=progress)
        else:
            inputs = read_daily(store, period=period, operators=operators, rules=rules)
            if keep_samples:   # the samples (and speed tests) themselves, for a map's hexagon layer
                raw = read_inputs(store, period=period, operators=operators, rules=rules, progress=progress)
                inputs.samples, inputs.speedtests = raw.samples, raw.speedtests
    if from_samples:
        cl = classify(inputs.samples, inputs.speedtests, g, rules, inputs.period, operators=inputs.operators)
    else:
        cl = classify_daily(inputs.days, inputs.signal, inputs.test_groups, g, rules, inputs.period,
                            day_counts=inputs.day_counts, speedtests_in_period=inputs.speedtests_in_period,
                            operators=inputs.operators)
    if not keep_samples:
        inputs.speedtests = inputs.speedtests.iloc[:0]
    return cl, inputs


def coverage_map_from_store(db: Path | str | SampleStore, out: Path | str, *, offline: bool = False,
                            period: str | None = None, operators: list[str] | None = None,
                            rules_path: Path | str | None = None, gazetteer: Gazetteer | None = None,
                            exports: Sequence[Path | str] | None = None,
                            progress: Progress | None = None) -> dict[str, Any]:
    """Classify the store and write the coverage map (and any exports: .gpkg, .geojson, .csv)."""
    g = gazetteer or Gazetteer.load()
    cl, inputs = classify_store(db, period=period, operators=operators, rules_path=rules_path, gazetteer=g,
                                progress=progress, keep_samples=True)   # the hexagon layer needs sample positions
    notes = []
    if inputs.synthetic_sessions:
        notes.append(SYNTHETIC_NOTE.format(n=inputs.synthetic_sessions))
    hexes, res = hex_signal(_in_selected_regions(inputs.samples, g), cl.rules)  # once, for the map and the exports
    result = build_coverage_map(cl, g, out, offline=offline, notes=notes, hexes=(hexes, res))
    result["synthetic_sessions"] = inputs.synthetic_sessions
    result["exports"] = [export_classification(cl, path, hexes=hexes, hex_resolution=res) for path in exports or []]
    result["summary"] = region_summary(cl)
    return result


def _in_selected_regions(samples, g: Gazetteer):
    """The samples inside the selected regions' outlines (buffered 0.05°), when ``--region`` chose
    part of the gazetteer; all samples otherwise. Keeps the H3 layer to the regions on the map."""
    full = Gazetteer.load()
    if set(g.regions) == set(full.regions) or not len(samples):
        return samples
    import shapely
    from shapely.geometry import shape

    from ..mapping.leaflet import read_outlines

    _districts, regions, _bounds = read_outlines(g)
    area = shapely.union_all([shape(f["geometry"]) for f in regions["features"]]).buffer(0.05)
    return samples[shapely.contains_xy(area, samples["lon"].to_numpy(float), samples["lat"].to_numpy(float))]


def region_summary(cl: Classification) -> list[dict[str, Any]]:
    """The region rows of the roll-up (one per region and scope, then all regions together), for printing."""
    rows = cl.districts[cl.districts["level"] != "district"]
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
            for r in rows.to_dict(orient="records")]


__all__ = ["classify_store", "coverage_map_from_store", "read_daily", "read_inputs", "region_summary",
           "ClassificationError"]
