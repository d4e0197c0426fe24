"""Daily sample aggregates (probe migration 3): kept current by the database when recording and
pushing (both engines; resumed, killed, concurrent and raced pushes included), equal to a rebuild
from the samples (the migration's backfill), and classification from them equal to classification
from the samples (the reference) for every settlement x operator."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from conftest import QAMTU
from legacy_store import build_postgres, build_sqlite, copy_rows

from qamtu.mapping.classify import ClassificationError
from qamtu.mapping.rules import default_rules_path
from qamtu.probe.aggregates import NewSamples, add_new_samples, rebuild
from qamtu.probe.push import push
from qamtu.probe.store import Store, sample_store
from qamtu.probe.synthetic import Campaign, default_condition, settlements_of, write_campaign
from qamtu.reports.coverage import classify_store
from qamtu.store.migrations import latest
from test_coverage_helpers import write_designed

DAY_KEY = ["kato", "operator_mcc", "operator_mnc", "day", "status", "technology"]
SIGNAL_KEY = [*DAY_KEY, "metric", "bin_dbm"]
#: every column of a classification row that is exact from the aggregates; medians are within the 1 dB bin
EXACT = ["kato", "operator", "mobile_status", "mobile_level", "mobile_judged", "mobile_share", "internet_status",
         "internet_judged", "share_below_standard", "thin_data", "thin_reasons", "samples", "samples_no_service",
         "days", "speedtests", "speedtests_below", "speedtests_failed", "speedtests_excluded",
         "speedtests_unknown_technology", "speedtest_days", "technologies", "best_rsrp_dbm", "best_rscp_dbm",
         "best_rssi_dbm", "median_download_mbps", "median_upload_mbps", "first_utc", "last_visit_utc"]
MEDIANS = ["median_rsrp_dbm", "median_rscp_dbm", "median_rssi_dbm"]


MONTH_KEY = ["kato", "operator_mcc", "operator_mnc", "month", "status", "technology"]
SIGNAL_MONTH_KEY = [*MONTH_KEY, "metric", "bin_dbm"]


def _tables(store) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """sample_days, sample_signal_days, sample_months, sample_signal_months, in key order."""
    return tuple(pd.DataFrame(store.query(f"SELECT * FROM {table}")).sort_values(key, ignore_index=True)
                 for table, key in (("sample_days", DAY_KEY), ("sample_signal_days", SIGNAL_KEY),
                                    ("sample_months", MONTH_KEY), ("sample_signal_months", SIGNAL_MONTH_KEY)))


def _assert_same_aggregates(a, b) -> None:
    for days_a, days_b, sig_a, sig_b in ((a[0], b[0], a[1], b[1]), (a[2], b[2], a[3], b[3])):
        assert len(days_a) and len(sig_a)
        pd.testing.assert_frame_equal(days_a, days_b, check_dtype=False)
        pd.testing.assert_frame_equal(sig_a.drop(columns="sum_dbm"), sig_b.drop(columns="sum_dbm"), check_dtype=False)
        np.testing.assert_allclose(sig_a["sum_dbm"], sig_b["sum_dbm"], rtol=1e-9)   # sums of floats in another order


def _campaign(path, n=25, days=3, seed=5, start=datetime(2026, 6, 1, 6, tzinfo=timezone.utc)):
    from qamtu.mapping.gazetteer import Gazetteer

    with Store(path) as st:
        write_campaign(st, Campaign(settlements_of(Gazetteer.load(), limit=n), default_condition, days=days,
                                    seed=seed, samples_per_visit=12, speedtests_per_visit=2, start=start))
    return path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    return _campaign(tmp_path_factory.mktemp("agg") / "recorded.db")


@pytest.fixture(scope="module")
def straddling(tmp_path_factory):
    """Four days across the end of May 2026: whole months come from the monthly roll-up."""
    return _campaign(tmp_path_factory.mktemp("agg") / "straddling.db", n=15, days=4, seed=11,
                     start=datetime(2026, 5, 30, 6, tzinfo=timezone.utc))


def _compare(a, b) -> None:
    x, y = a.by_operator, b.by_operator
    assert len(x) == len(y) > 0
    pd.testing.assert_frame_equal(x[EXACT], y[EXACT], check_dtype=False)
    # the synthetic readings are not whole dBm: a bin's mean stands for its values, within the 1 dB bin
    for c in MEDIANS:
        np.testing.assert_allclose(x[c].astype(float), y[c].astype(float), atol=1.0, equal_nan=True)
    pd.testing.assert_frame_equal(a.settlements.drop(columns=["best_median_rsrp_dbm"]),
                                  b.settlements.drop(columns=["best_median_rsrp_dbm"]), check_dtype=False)
    pd.testing.assert_frame_equal(a.districts, b.districts)
    assert a.counts == b.counts


# --------------------------------------------------------------------------- kept current and backfilled
def test_recording_counts_every_sample_once(recorded):
    with Store(recorded) as st:
        days, signal, months, signal_months = _tables(st)
        assert days["samples"].sum() == st.scalar("SELECT COUNT(*) FROM samples") > 0
        rsrp = st.scalar("SELECT COUNT(*) FROM samples WHERE rsrp_dbm IS NOT NULL")
        assert signal[signal["metric"] == "rsrp_dbm"]["samples"].sum() == rsrp
        best = st.scalar("SELECT MAX(rsrp_dbm) FROM samples")
        assert signal[signal["metric"] == "rsrp_dbm"]["max_dbm"].max() == best
        assert (signal["bin_dbm"] <= signal["max_dbm"]).all() and (signal["max_dbm"] < signal["bin_dbm"] + 1).all()
        # the monthly roll-up holds the same samples, and a day mask with one bit per day of samples
        assert months["samples"].sum() == days["samples"].sum()
        assert signal_months["samples"].sum() == signal["samples"].sum()
        per_month = days.assign(month=days["day"].str[:7]).groupby(MONTH_KEY)["day"].nunique()
        bits = months.set_index(MONTH_KEY)["day_mask"].map(lambda m: bin(int(m)).count("1"))
        pd.testing.assert_series_equal(bits.sort_index(), per_month.sort_index(), check_names=False, check_dtype=False)


def _assert_equal_to_rebuild(store) -> None:
    """The aggregates kept current by recording/pushing equal those rebuilt from the store's samples."""
    kept = _tables(store)
    assert kept[0]["samples"].sum() == store.scalar("SELECT COUNT(*) FROM samples") > 0
    rebuild(store)
    _assert_same_aggregates(_tables(store), kept)


def _open(engine, tmp_path, cluster):
    if engine == "sqlite":
        return Store(tmp_path / "one.db")
    return sample_store(cluster.create_db(f"aggone{next(_dbs)}"))


_dbs = iter(range(10**6))


def _raw_sample(tx, seq, t, **values):
    row = {"record_id": f"r{seq}", "session_id": "s1", "seq": seq, "time_utc": t, "status": "ok", "port": "p",
           "fix_mode": "3D", "tag_reason": "tagged", "inspector": "x", "kato": "611010000", "operator_mcc": "401",
           "operator_mnc": "02", "technology": "LTE", **values}
    tx.execute("INSERT INTO records VALUES (?, 's1', ?, 'sample', ?, '{}', 'p', 'h')", (f"r{seq}", seq, t))
    tx.execute(f"INSERT INTO samples ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_the_database_bins_by_floor_and_leaves_out_what_is_no_reading(engine, tmp_path, cluster):
    """Floor to 1 dB bins (-110.5 -> -111, -90 -> -90), values out of (-1000, 1000), NaN and text not
    binned; both ways of naming new samples (a seq range, ids); the result equals a rebuild."""
    st = _open(engine, tmp_path, cluster)
    a, b = "2026-06-01T10:00:00.000000Z", "2026-06-01T10:00:01.500000Z"
    try:
        with st.transaction("test") as tx:
            tx.execute("INSERT INTO sessions VALUES ('s1', ?, NULL, 'open', 'x', NULL, 'h', '0', '{}')", (a,))
            _raw_sample(tx, 1, a, rsrp_dbm=-110.5, rssi_dbm=float("nan"), rscp_dbm=1500.0, nr_rsrp_dbm=-90)
            add_new_samples(tx, st.engine, NewSamples.seq_range("s1", 1, 1))
        with st.transaction("test") as tx:
            _raw_sample(tx, 2, b, rsrp_dbm=-110.25, **({"rssi_dbm": "x"} if engine == "sqlite" else {}))
            add_new_samples(tx, st.engine, NewSamples.ids(st.engine, ["r2"]))
        key = ("611010000", "401", "02", "2026-06-01", "ok", "LTE")
        assert st.rows("SELECT * FROM sample_days") == [(*key, 2, a, b)]
        assert sorted(st.rows("SELECT * FROM sample_signal_days")) == [
            (*key, "nr_rsrp_dbm", -90, 1, -90.0, -90.0), (*key, "rsrp_dbm", -111, 2, -220.75, -110.25)]
        # the monthly roll-up of the same samples: day 1 of the month is bit 0 of the day mask
        month = ("611010000", "401", "02", "2026-06", "ok", "LTE")
        assert st.rows("SELECT * FROM sample_months") == [(*month, 2, 1, a, b)]
        assert sorted(st.rows("SELECT * FROM sample_signal_months")) == [
            (*month, "nr_rsrp_dbm", -90, 1, -90.0, -90.0), (*month, "rsrp_dbm", -111, 2, -220.75, -110.25)]
        _assert_equal_to_rebuild(st)
    finally:
        st.close()


def test_sqlite_upgrade_fills_them_as_recording_does(recorded, tmp_path):
    """A store of qamtu 0.1.0 (schema 4, no aggregates) upgraded in place: the migration's backfill
    gives exactly the aggregates that recording the same samples gave."""
    old = tmp_path / "old.db"
    build_sqlite(old, 4)
    with Store(recorded) as src:
        copy_rows(src, old)
        want = _tables(src)
    with Store(old) as st:   # read-write open: applies probe migrations 3 to 5
        assert st.schema_versions()["probe"] == latest()["probe"] >= 5
        _assert_same_aggregates(_tables(st), want)


def test_sqlite_push_adds_them_once(recorded, tmp_path):
    target = tmp_path / "office.db"
    with Store(recorded) as src, Store(target) as dst:
        push(src, dst, batch=100)
        _assert_same_aggregates(_tables(dst), _tables(src))
        push(src, dst, batch=100)          # nothing new: the aggregates do not grow
        _assert_same_aggregates(_tables(dst), _tables(src))
    other = _campaign(tmp_path / "second.db", n=10, seed=9)   # a second laptop adds to the same days
    with Store(other) as src2, Store(target) as dst:
        push(src2, dst, batch=37)
        d = _tables(dst)[0]
        assert d["samples"].sum() == dst.scalar("SELECT COUNT(*) FROM samples")
        fresh = tmp_path / "fresh.db"
        build_sqlite(fresh, 4)
        copy_rows(dst, fresh)
    with Store(fresh) as st, Store(target) as dst:
        _assert_same_aggregates(_tables(st), _tables(dst))


def test_postgresql_push_and_upgrade_give_the_same_aggregates(recorded, cluster):
    with Store(recorded) as src:
        want = _tables(src)
        url = cluster.create_db("aggpush")
        dst = sample_store(url)
        try:
            push(src, dst, batch=150)
            _assert_same_aggregates(_tables(dst), want)
            push(src, dst, batch=150)
            _assert_same_aggregates(_tables(dst), want)
            # probe migration 4: room on each page for the upserts' new row versions (HOT updates)
            assert dst.rows("SELECT relname, reloptions FROM pg_class WHERE relname IN ('sample_days', "
                            "'sample_signal_days') ORDER BY relname") == [
                ("sample_days", ["fillfactor=50"]), ("sample_signal_days", ["fillfactor=50"])]
        finally:
            dst.close()
        old = cluster.create_db("aggold")
        build_postgres(old, 4)
        copy_rows(src, old)
    up = sample_store(old)   # applies migration 3 on PostgreSQL
    try:
        _assert_same_aggregates(_tables(up), want)
    finally:
        up.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_an_interrupted_push_resumed_counts_every_sample_once(engine, recorded, tmp_path, cluster):
    dst = _open(engine, tmp_path, cluster)
    try:
        with Store(recorded) as src:
            def pulled(sid, done, total):
                raise KeyboardInterrupt   # the cable is pulled after the first batch

            with pytest.raises(KeyboardInterrupt):
                push(src, dst, batch=100, progress=pulled)
            assert 0 < dst.scalar("SELECT COUNT(*) FROM samples") < src.scalar("SELECT COUNT(*) FROM samples")
            _assert_equal_to_rebuild(dst)   # whole batches, each with its aggregates
            push(src, dst, batch=70)
            _assert_same_aggregates(_tables(dst), _tables(src))
            _assert_equal_to_rebuild(dst)
    finally:
        dst.close()


_PUSH = ("import sys\nfrom qamtu.probe.push import push\nfrom qamtu.probe.store import sample_store\n"
         "push(sample_store(sys.argv[1]), sample_store(sys.argv[2]), batch=int(sys.argv[3]))\n")


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_push_killed_mid_way_leaves_no_sample_without_its_aggregates(engine, recorded, tmp_path, cluster):
    target = str(tmp_path / "killed.db") if engine == "sqlite" else cluster.create_db(f"aggkill{next(_dbs)}")
    with sample_store(target, create=True) as dst:   # migrated before the pusher starts
        total = dst.scalar("SELECT COUNT(*) FROM records") + Store(recorded).scalar("SELECT COUNT(*) FROM records")
        proc = subprocess.Popen([sys.executable, "-c", _PUSH, str(recorded), target, "5"])
        try:
            deadline = time.monotonic() + 120
            while dst.scalar("SELECT COUNT(*) FROM records") < 200 and time.monotonic() < deadline:
                assert proc.poll() is None, "the push ended before it could be killed"
                time.sleep(0.01)
        finally:
            proc.kill()   # SIGKILL: no clean-up runs
            proc.wait()
        assert 0 < dst.scalar("SELECT COUNT(*) FROM records") < total
        _assert_equal_to_rebuild(dst)
        with Store(recorded) as src:
            push(src, dst, batch=64)
            _assert_same_aggregates(_tables(dst), _tables(src))
        _assert_equal_to_rebuild(dst)


def test_concurrent_pushers_count_every_sample_once(recorded, cluster):
    """Two processes push the same file at once, each with two workers: every race on a batch is lost
    by one of them (the careful path), the shared day rows are upserted in one order (no deadlock)."""
    url = cluster.create_db("aggrace")
    with sample_store(url):   # migrated once before the race
        pass
    procs = [subprocess.Popen([str(QAMTU), "db", "push", "--from", str(recorded), "--to", url, "--workers", "2",
                               "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    added = 0
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        added += json.loads(out)["added"]
    with Store(recorded) as src, sample_store(url) as dst:
        assert added == src.scalar("SELECT COUNT(*) FROM records") == dst.scalar("SELECT COUNT(*) FROM records")
        _assert_same_aggregates(_tables(dst), _tables(src))
        _assert_equal_to_rebuild(dst)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_batch_that_lost_a_race_adds_only_what_it_inserted(engine, recorded, tmp_path, cluster):
    """Parts of a batch were committed by another pusher: the batch's transaction adds to the
    aggregates only the samples it inserted itself (not a seq range: the ids)."""
    from qamtu.probe.push import SessionPush, _ensure_session, _insert_batch, _rows, _session_row

    dst = _open(engine, tmp_path, cluster)
    try:
        with Store(recorded) as src:
            sid = src.scalar("SELECT session_id FROM samples GROUP BY session_id ORDER BY COUNT(*) DESC LIMIT 1")
            assert _ensure_session(dst, _session_row(src, sid), SessionPush(sid))
            rows = next(_rows(src, sid, 80))
            assert _insert_batch(dst, rows[5:10]) == {r[0] for r in rows[5:10]}     # the other pushers' rows
            assert _insert_batch(dst, rows[20:40]) == {r[0] for r in rows[20:40]}
            inserted = _insert_batch(dst, rows)
        assert inserted == {r[0] for r in rows[:5] + rows[10:20] + rows[40:]}
        assert dst.scalar("SELECT COUNT(*) FROM records") == len(rows)
        _assert_equal_to_rebuild(dst)
    finally:
        dst.close()


# --------------------------------------------------------------------------- classification from them
def test_classification_from_aggregates_equals_the_sample_scan(recorded, gazetteer):
    for kw in ({}, {"operators": ["Kcell"]}, {"period": "2026-06-02..2026-06-03"}, {"period": "2025"}):
        agg, inputs = classify_store(recorded, gazetteer=gazetteer, **kw)
        ref, _ = classify_store(recorded, gazetteer=gazetteer, from_samples=True, **kw)
        assert len(inputs.samples) == 0 and len(inputs.days) > 0 or kw.get("period") == "2025"
        if kw.get("period") == "2025":
            assert len(agg.by_operator) == len(ref.by_operator) == 0
            continue
        _compare(agg, ref)


def test_designed_statuses_equal_from_aggregates(tmp_path, gazetteer):
    db = tmp_path / "designed.db"
    write_designed(db, gazetteer, days=2)
    agg, _ = classify_store(db, gazetteer=gazetteer)
    ref, _ = classify_store(db, gazetteer=gazetteer, from_samples=True)
    _compare(agg, ref)
    assert set(agg.by_operator["mobile_status"]) == set(ref.by_operator["mobile_status"])
    assert len(set(agg.by_operator["mobile_status"])) >= 3


def test_a_new_rule_set_needs_no_rescan(recorded, gazetteer, tmp_path):
    """Thresholds moved: the same aggregates classify as the samples do under the new rules."""
    text = default_rules_path().read_text(encoding="utf-8")
    changed = tmp_path / "stricter.toml"
    import tomllib
    rules = tomllib.loads(text)
    lte = rules["mobile"]["signal"]["LTE"]["coverage_min_dbm"]
    stricter = text.replace(f"coverage_min_dbm = {lte}", f"coverage_min_dbm = {int(lte) + 9}", 1)
    stricter = stricter.replace('metric = "rscp_dbm"\n', 'metric = "rscp_dbm"\ncoverage_min_dbm = -99.0\n', 1)
    assert stricter.count("coverage_min_dbm") == text.count("coverage_min_dbm") + 1
    changed.write_text(stricter, encoding="utf-8")
    agg, _ = classify_store(recorded, gazetteer=gazetteer, rules_path=changed)
    ref, _ = classify_store(recorded, gazetteer=gazetteer, rules_path=changed, from_samples=True)
    base, _ = classify_store(recorded, gazetteer=gazetteer)
    _compare(agg, ref)
    assert (agg.by_operator["mobile_level"] != base.by_operator["mobile_level"]).any(), "the change must matter"
    half = tmp_path / "half.toml"
    half.write_text(text.replace(f"coverage_min_dbm = {lte}", f"coverage_min_dbm = {int(lte)}.5", 1), encoding="utf-8")
    with pytest.raises(ClassificationError, match="whole dBm"):
        classify_store(recorded, gazetteer=gazetteer, rules_path=half)


def test_postgresql_classifies_from_aggregates_like_sqlite(recorded, cluster, gazetteer):
    url = cluster.create_db("aggcls")
    with Store(recorded) as src:
        dst = sample_store(url)
        push(src, dst)
        dst.close()
    pg, inputs = classify_store(url, gazetteer=gazetteer)
    lite, _ = classify_store(recorded, gazetteer=gazetteer)
    assert len(inputs.samples) == 0
    _compare(pg, lite)


def test_db_aggregate_command_rebuilds_what_a_bulk_load_left_out(recorded, tmp_path):
    import json
    import shutil

    from conftest import run_qamtu

    copy = tmp_path / "bulk.db"
    shutil.copy(recorded, copy)
    with Store(copy) as st:
        want = _tables(st)
        for table in ("sample_signal_months", "sample_months", "sample_signal_days", "sample_days"):
            st.execute(f"DELETE FROM {table}")      # as if the samples had been bulk-loaded
        assert st.scalar("SELECT COUNT(*) FROM sample_days") == 0
    out = run_qamtu("db", "aggregate", "--db", str(copy), "--json")
    assert json.loads(out.stdout) == {"sample_days": len(want[0]), "sample_signal_days": len(want[1]),
                                      "sample_months": len(want[2]), "sample_signal_months": len(want[3])}
    with Store(copy) as st:
        _assert_same_aggregates(_tables(st), want)
    missing = run_qamtu("db", "aggregate", "--db", str(tmp_path / "none.db"), check=False)
    assert missing.returncode == 1 and "no such store" in missing.stderr + missing.stdout


# --------------------------------------------------------------------------- whole months from the monthly roll-up
#: period -> (months read from the roll-up, day ranges read from the daily tables) for the straddling store
STRADDLING_PERIODS = {
    None: (("2025-07", "2026-05"), (("2025-06-03", "2025-06-30"), ("2026-06-01", "2026-06-02"))),
    "2026-05": (("2026-05", "2026-05"), ()),
    "2026": (("2026-01", "2026-12"), ()),
    "2026-05-31..2026-06-01": (None, (("2026-05-31", "2026-06-01"),)),
    "2026-05-15..2026-06-30": (("2026-06", "2026-06"), (("2026-05-15", "2026-05-31"),)),
}


def test_period_parts_split_whole_months_from_edge_days(straddling):
    from qamtu.mapping.classify import parse_period
    from qamtu.mapping.rules import load_rules
    from qamtu.reports.coverage import _latest, period_parts

    rules = load_rules()
    with Store(straddling) as st:
        latest = _latest(st)
    for text, (months, days) in STRADDLING_PERIODS.items():
        per = parse_period(text, rules, latest)
        parts = period_parts(per.start.date(), (per.end - pd.Timedelta(days=1)).date())
        assert (parts.months, parts.days) == (months, days), text
    from datetime import date

    assert period_parts(date(2026, 1, 31), date(2026, 3, 1)).days == (("2026-01-31", "2026-01-31"),
                                                                     ("2026-03-01", "2026-03-01"))


def test_classification_across_a_month_boundary_equals_the_sample_scan(straddling, gazetteer):
    for text in [*STRADDLING_PERIODS, "2026-05-31..2026-05-31"]:
        agg, inputs = classify_store(straddling, gazetteer=gazetteer, period=text)
        ref, _ = classify_store(straddling, gazetteer=gazetteer, from_samples=True, period=text)
        assert len(inputs.samples) == 0 and len(inputs.days) > 0
        _compare(agg, ref)
        assert ref.counts["samples_in_period"] > 0 and ref.counts["speedtests_in_period"] > 0
    one = classify_store(straddling, gazetteer=gazetteer, period="2026", operators=["Kcell"])[0]
    _compare(one, classify_store(straddling, gazetteer=gazetteer, period="2026", operators=["Kcell"],
                                 from_samples=True)[0])
    assert set(one.by_operator["operator"]) == {"401-02"}
    # the days of a settlement x operator span both months: the May mask bits and the June days add up
    whole = classify_store(straddling, gazetteer=gazetteer, period="2026")[0]
    assert whole.by_operator["days"].max() >= 3


def test_postgresql_reads_whole_months_like_sqlite(straddling, cluster, gazetteer):
    url = cluster.create_db("aggmonths")
    with Store(straddling) as src:
        dst = sample_store(url)
        push(src, dst, batch=70)
        _assert_same_aggregates(_tables(dst), _tables(src))
        dst.close()
    for text in (None, "2026", "2026-05-15..2026-06-30"):
        pg, _ = classify_store(url, gazetteer=gazetteer, period=text)
        ref, _ = classify_store(straddling, gazetteer=gazetteer, period=text, from_samples=True)
        _compare(pg, ref)


def test_every_aggregate_table_has_its_upsert():
    from qamtu.probe.aggregates import TABLES, UPSERTS

    assert [table for table, _sql in UPSERTS] == list(TABLES)


def _apply_monthly_upserts(store, sessions) -> None:
    from qamtu.probe.aggregates import UPSERTS

    monthly = [sql[store.engine] for table, sql in UPSERTS if table in ("sample_months", "sample_signal_months")]
    assert len(monthly) == 2
    for sid in sessions:     # one transaction per session, as a writer adds its new rows
        with store.transaction("adding monthly aggregates") as tx:
            for sql in monthly:
                assert sql.count("{new}") == 1
                tx.execute(sql.replace("{new}", "session_id = ?"), (sid,))


def test_monthly_upserts_from_new_sample_rows_equal_the_roll_up(straddling, tmp_path, cluster):
    """The SQL statements for writers that aggregate the rows of their transaction in SQL: session by
    session into emptied monthly tables, they give the monthly rows recording gave (both engines)."""
    import shutil

    copy = tmp_path / "upserts.db"
    shutil.copy(straddling, copy)
    with Store(copy) as st:
        want = _tables(st)
        sessions = [r[0] for r in st.rows("SELECT session_id FROM sessions ORDER BY session_id")]
        assert len(sessions) > 1
        for table in ("sample_signal_months", "sample_months"):
            st.execute(f"DELETE FROM {table}")
        _apply_monthly_upserts(st, sessions)
        _assert_same_aggregates(_tables(st), want)
    url = cluster.create_db("aggupserts")
    with Store(straddling) as src:
        dst = sample_store(url)
        try:
            push(src, dst)
            for table in ("sample_signal_months", "sample_months"):
                dst.execute(f"DELETE FROM {table}")
            _apply_monthly_upserts(dst, sessions)
            _assert_same_aggregates(_tables(dst), want)
        finally:
            dst.close()


def test_postgresql_reads_on_one_connection_when_a_second_is_refused(straddling, cluster, gazetteer, monkeypatch):
    import qamtu.reports.coverage as coverage
    from qamtu.store import StoreError

    url = cluster.create_db("aggone")
    with Store(straddling) as src:
        dst = sample_store(url)
        push(src, dst)
        dst.close()
    real, opened = coverage.sample_store, []

    def refusing(db, **kw):
        if isinstance(db, str):   # a second connection by URL: the server is at max_connections
            opened.append(db)
            raise StoreError(f"{db}: cannot connect (too many clients)")
        return real(db, **kw)

    store = sample_store(url)
    monkeypatch.setattr(coverage, "sample_store", refusing)
    try:
        one, _ = classify_store(store, gazetteer=gazetteer, period="2026")
    finally:
        store.close()
    assert opened == [url]
    _compare(one, classify_store(straddling, gazetteer=gazetteer, period="2026", from_samples=True)[0])


def test_coverage_readers_take_the_sessions_marks_without_counting_sessions(recorded, gazetteer, monkeypatch):
    """Counting each session's records read a large store once per session (a 1 M-sample PostgreSQL store
    of 20 sessions: 24 s per coverage page); the readers need only the sessions' synthetic marks."""
    from qamtu.probe.store import SampleStore
    from qamtu.reports.coverage import read_inputs

    with Store(recorded) as st:
        metas = st.session_metas()
        full = {s["session_id"]: s for s in st.sessions()}
    assert metas and set(metas) == set(full) and all(m.get("synthetic") for m in metas.values())

    def refuse(*args, **kwargs):
        raise AssertionError("a coverage reader counted the records of every session")

    monkeypatch.setattr(SampleStore, "sessions", refuse)
    monkeypatch.setattr(SampleStore, "session", refuse)
    for kw in ({}, {"from_samples": True}):
        _, inputs = classify_store(recorded, gazetteer=gazetteer, **kw)
        assert inputs.synthetic_sessions == len(metas)
    with Store(recorded) as st:
        assert read_inputs(st, fast=False).synthetic_sessions == len(metas)


def test_one_session_is_counted_like_the_list(recorded):
    with Store(recorded) as st:
        listed = st.sessions()
        assert len(listed) > 1 and sum(s["samples"] for s in listed) == st.scalar("SELECT COUNT(*) FROM samples")
        for s in listed:
            one = st.session(s["session_id"][:12])
            assert {k: one[k] for k in s} == s and one["meta"]["synthetic"]
            assert s["records"] == st.scalar("SELECT COUNT(*) FROM records WHERE session_id = ?", (s["session_id"],))
            assert s["speedtests"] == st.scalar("SELECT COUNT(*) FROM speedtests WHERE session_id = ?",
                                                (s["session_id"],))
        with pytest.raises(Exception, match="more than one session matches"):
            st.session("")
