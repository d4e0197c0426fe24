"""The SQL that reduces a period's sample aggregates and speed tests to what one rule set needs.

:func:`qamtu.reports.coverage.read_daily` runs these queries; the database does the reduction, so
a classification transfers a few rows per settlement x operator instead of the period's bins and
speed tests (the coverage page over ten million samples: bench/bench_coverage.py --postgres). The
stored rows stay rule-free (every 1 dB bin, every speed test): a new rule set only writes other
SQL. Each builder returns ``(sql, params)``, the same text on SQLite and PostgreSQL (window
functions, ``CASE``, ``CAST``; values of the rule set as parameters, never as SQL text) except
that PostgreSQL sorts the partitions of the window functions bytewise (``COLLATE "C"``: the
database's language collation makes those sorts several times slower, and any order of the
partitions gives the same result).

What each query gives, per settlement (``kato``) x operator (``operator_mcc``, ``operator_mnc``):

* :func:`cells_sql`: per status x technology, the samples, the samples whose signal is below the
  rule set's threshold of their technology (``weak``; exact on 1 dB bins for whole-dBm thresholds:
  ``floor(v) < T`` exactly when ``v < T``), the first and last sample time.
* :func:`signal_sql`: per statistic stem of :data:`qamtu.mapping.classify.SIGNAL_STATS`, the best
  value (exact) and the median from the bins (a bin's mean stands for its values: exact for
  whole-dBm readings, within the 1 dB bin otherwise), as :func:`qamtu.mapping.classify.classify`
  computes them from the samples (``numpy.median``: the mean of the two middle values).
* :func:`speedtests_sql`: the speed-test counts, days, last time and exact medians of the download
  and upload speeds of the evidence tests, as :func:`qamtu.mapping.classify.classify` counts them
  (PostgreSQL sorts each group's speeds in ``array_agg(... ORDER BY ...)``, SQLite ranks them with
  window functions: a window over all the period's tests costs PostgreSQL several times more).
"""

from __future__ import annotations

from typing import Any

from ..mapping.classify import SIGNAL_STATS
from ..mapping.rules import RuleSet

#: (table kind 'months' or 'days', WHERE condition, parameters): the parts of a period (coverage.period_parts)
Source = tuple[str, str, list[Any]]
_OP_KEY = "kato, operator_mcc, operator_mnc"
_KNOWN_KEY = "kato <> '' AND operator_mcc <> '' AND operator_mnc <> ''"


def _partition(engine: str, extra: str = "") -> str:
    """PARTITION BY the settlement x operator (and ``extra``), bytewise on PostgreSQL."""
    c = ' COLLATE "C"' if engine == "postgresql" else ""
    keys = [f"{k}{c}" for k in ("kato", "operator_mcc", "operator_mnc")] + ([f"{extra}{c}"] if extra else [])
    return "PARTITION BY " + ", ".join(keys)


def _union(sources: list[Source], select: str) -> tuple[str, list[Any]]:
    """``select`` (with ``{table}``: ``months`` or ``days``, and ``{where}``) over every part, UNION ALL."""
    parts, params = [], []
    for kind, where, p in sources:
        parts.append(select.format(table=kind, where=where))
        params += p
    return " UNION ALL ".join(parts), params


def _weak(rules: RuleSet) -> tuple[str, list[Any]]:
    """Condition on a bin row: below the coverage threshold of its technology's rule ('1 = 0' when none)."""
    terms, params = [], []
    for name, rule in rules.mobile.signal.items():
        if rule.coverage_min_dbm is not None:
            terms.append("(technology = ? AND metric = ? AND bin_dbm < ?)")
            params += [name, rule.metric, int(rule.coverage_min_dbm)]
    return ("(" + " OR ".join(terms) + ")" if terms else "1 = 0"), params


def cells_sql(sources: list[Source], rules: RuleSet) -> tuple[str, list[Any]]:
    """kato, operator_mcc, operator_mnc, status, technology, samples, weak, first_utc, last_utc."""
    key = f"{_OP_KEY}, status, technology"
    rows, params = _union(sources, f"SELECT {key}, samples, 0 AS weak, first_utc, last_utc "
                                   "FROM sample_{table} WHERE {where}")
    weak, weak_params = _weak(rules)
    bins, _ = _union(sources, f"SELECT {key}, 0, samples, NULL, NULL FROM sample_signal_{{table}} "
                                     f"WHERE {{where}} AND {weak}")
    bin_params = [x for _kind, _where, p in sources for x in (*p, *weak_params)]   # each part: where, weak
    sql = (f"SELECT {key}, CAST(SUM(samples) AS BIGINT), CAST(SUM(weak) AS BIGINT), MIN(first_utc), MAX(last_utc) "
           f"FROM ({rows} UNION ALL {bins}) u GROUP BY {key}")
    return sql, [*params, *bin_params]


def day_counts_sql(sources: list[Source]) -> tuple[str, list[Any]]:
    """kato, operator_mcc, operator_mnc, days: distinct days with samples (the months' day-mask bits,
    the edge days themselves; ``sources`` already limited to the statuses that count)."""
    bits = " + ".join(f"MAX((day_mask >> {b}) & 1)" for b in range(31))
    parts, params = [], []
    for kind, where, p in sources:
        if kind == "months":
            parts.append(f"SELECT {_OP_KEY}, {bits} AS days FROM sample_months WHERE {where} GROUP BY {_OP_KEY}, month")
        else:
            parts.append(f"SELECT {_OP_KEY}, COUNT(DISTINCT day) AS days FROM sample_days WHERE {where} "
                         f"GROUP BY {_OP_KEY}")
        params += p
    return (f"SELECT {_OP_KEY}, CAST(SUM(days) AS BIGINT) FROM ({' UNION ALL '.join(parts)}) u GROUP BY {_OP_KEY}",
            params)


def signal_sql(sources: list[Source], rules: RuleSet, engine: str) -> tuple[str, list[Any]]:
    """kato, operator_mcc, operator_mnc, stem, best, median: per stem of SIGNAL_STATS, over the bins of
    samples in statuses the rule set does not ignore, of known settlement and operator."""
    ignored = list(rules.mobile.ignore_status)
    stems, stem_params, picks, pick_params = [], [], [], []
    for stem, (metric, only) in SIGNAL_STATS.items():
        stems.append("WHEN ? THEN ?")
        stem_params += [metric, stem]
        picks.append("(metric = ? AND technology = ?)" if only else "metric = ?")
        pick_params += [metric, only] if only else [metric]
    cond = f"{{where}} AND {_KNOWN_KEY} AND ({' OR '.join(picks)})"
    if ignored:
        cond += f" AND status NOT IN ({', '.join('?' * len(ignored))})"
    rows, _ = _union(sources, f"SELECT {_OP_KEY}, CASE metric {' '.join(stems)} END AS stem, bin_dbm, samples, "
                              f"sum_dbm, max_dbm FROM sample_signal_{{table}} WHERE {cond}")
    params = [x for _k, _w, p in sources for x in (*stem_params, *p, *pick_params, *ignored)]
    part = _partition(engine, "stem")
    # positions (from 0) of the two middle values of n: (n - 1) / 2 and n / 2 (integer division)
    sql = (f"WITH h AS (SELECT {_OP_KEY}, stem, bin_dbm, CAST(SUM(samples) AS BIGINT) AS n, SUM(sum_dbm) AS s, "
           f"MAX(max_dbm) AS m FROM ({rows}) u GROUP BY {_OP_KEY}, stem, bin_dbm), "
           f"c AS (SELECT {_OP_KEY}, stem, n, s, m, CAST(SUM(n) OVER ({part} ORDER BY bin_dbm) AS BIGINT) AS cum, "
           f"CAST(SUM(n) OVER ({part}) AS BIGINT) AS total FROM h) "
           f"SELECT {_OP_KEY}, stem, MAX(m), "
           "(SUM(CASE WHEN cum - n <= (total - 1) / 2 AND (total - 1) / 2 < cum THEN s / n END) "
           "+ SUM(CASE WHEN cum - n <= total / 2 AND total / 2 < cum THEN s / n END)) / 2 "
           f"FROM c GROUP BY {_OP_KEY}, stem")
    return sql, params


def speedtests_sql(where: str, where_params: list[Any], rules: RuleSet, engine: str) -> tuple[str, list[Any]]:
    """kato, operator_mcc, operator_mnc, speedtests, speedtests_below, speedtests_failed,
    speedtests_excluded, speedtests_unknown_technology, speedtest_days, median_download_mbps,
    median_upload_mbps, tests_last_utc: the speed tests matching ``where`` with a settlement and an
    operator, counted as :func:`qamtu.mapping.classify.classify` counts them."""
    thresholds = rules.internet.download_min_mbps
    tech = "COALESCE(technology, 'none')"
    exclude = rules.evidence.speedtests.exclude_consumer_comparable_only
    excluded = "consumer_comparable_only <> 0" if exclude else "1 = 0"
    known = f"{tech} IN ({', '.join('?' * (len(thresholds) + 1))})"     # GSM: no threshold, always below
    known_params = [*thresholds, "GSM"]
    thr = f"CASE {tech} {' '.join('WHEN ? THEN ?' for _ in thresholds)} END" if thresholds else "NULL"
    thr_params = [x for t, v in thresholds.items() for x in (t, float(v))]
    valid = "valid <> 0"
    ev = f"{valid} AND NOT ({excluded}) AND {known} AND download_mbps IS NOT NULL"
    flags = (f"CASE WHEN {ev} THEN 1 ELSE 0 END AS ev, "
             f"CASE WHEN {ev} AND ({thr} IS NULL OR download_mbps < {thr}) THEN 1 ELSE 0 END AS below, "
             f"CASE WHEN NOT ({valid}) AND NOT ({excluded}) AND failure_cause IS NOT NULL THEN 1 ELSE 0 END AS failed, "
             f"CASE WHEN {excluded} THEN 1 ELSE 0 END AS excl, "
             f"CASE WHEN {valid} AND NOT ({excluded}) AND NOT ({known}) THEN 1 ELSE 0 END AS unk")
    flag_params = [*known_params, *known_params, *thr_params, *thr_params, *known_params]
    t = (f"SELECT {_OP_KEY}, time_utc, substr(time_utc, 1, 10) AS day, download_mbps AS dl, upload_mbps AS ul, {flags} "
         f"FROM speedtests WHERE {where} "
         "AND kato IS NOT NULL AND operator_mcc IS NOT NULL AND operator_mnc IS NOT NULL")
    counts = ("SUM(ev) AS n_ev, SUM(below) AS n_below, SUM(failed) AS n_failed, SUM(excl) AS n_excl, "
              "SUM(unk) AS n_unk, COUNT(DISTINCT CASE WHEN ev = 1 OR failed = 1 THEN day END) AS days, "
              "MAX(time_utc) AS last_utc")
    figures = ("CAST(n_ev AS BIGINT), CAST(n_below AS BIGINT), CAST(n_failed AS BIGINT), CAST(n_excl AS BIGINT), "
               "CAST(n_unk AS BIGINT), CAST(days AS BIGINT)")
    if engine == "postgresql":
        # each group's evidence speeds sorted by the aggregate itself: one pass, no window over all tests
        sql = (f"SELECT {_OP_KEY}, {figures}, (a[(na + 1) / 2] + a[na / 2 + 1]) / 2, "
               f"(b[(nb + 1) / 2] + b[nb / 2 + 1]) / 2, last_utc FROM ("
               f"SELECT {_OP_KEY}, {counts}, COUNT(dl) FILTER (WHERE ev = 1) AS na, "
               "array_agg(dl ORDER BY dl) FILTER (WHERE ev = 1) AS a, "
               "COUNT(ul) FILTER (WHERE ev = 1) AS nb, "
               "array_agg(ul ORDER BY ul) FILTER (WHERE ev = 1 AND ul IS NOT NULL) AS b "
               f"FROM ({t}) t GROUP BY {_OP_KEY}) g")
        return sql, [*flag_params, *where_params]
    part = _partition(engine)

    def median(col: str) -> str:
        ranked = (f"SELECT {_OP_KEY}, {col} AS v, ROW_NUMBER() OVER ({part} ORDER BY {col}) - 1 AS i, "
                  f"COUNT(*) OVER ({part}) AS n FROM t WHERE ev = 1 AND {col} IS NOT NULL")
        return f"SELECT {_OP_KEY}, AVG(v) AS v FROM ({ranked}) r WHERE i = (n - 1) / 2 OR i = n / 2 GROUP BY {_OP_KEY}"

    def on(x: str) -> str:
        return " AND ".join(f"{x}.{c} = g.{c}" for c in ("kato", "operator_mcc", "operator_mnc"))

    sql = (f"WITH t AS ({t}), g AS (SELECT {_OP_KEY}, {counts} FROM t GROUP BY {_OP_KEY}), "
           f"d AS ({median('dl')}), u AS ({median('ul')}) "
           f"SELECT g.kato, g.operator_mcc, g.operator_mnc, {figures}, d.v, u.v, last_utc FROM g "
           f"LEFT JOIN d ON {on('d')} LEFT JOIN u ON {on('u')}")
    return sql, [*flag_params, *where_params]


def count_sql(where: str, where_params: list[Any]) -> tuple[str, list[Any]]:
    """The number of speed tests matching ``where`` (any settlement, any operator)."""
    return f"SELECT COUNT(*) FROM speedtests WHERE {where}", list(where_params)


__all__ = ["cells_sql", "count_sql", "day_counts_sql", "signal_sql", "speedtests_sql"]
