"""Coverage classification: statuses known by construction, evidence rules, best of operators,
district roll-up, periods, and the store reader."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from qamtu.mapping.classify import ClassificationError, Period, classify, parse_period
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.mapping.rules import load_rules
from qamtu.probe.store import Store
from qamtu.reports.coverage import classify_store, read_inputs
from test_coverage_helpers import BEST, DESIGN, KCELL, write_designed

RULES = load_rules()
T0 = datetime(2026, 6, 1, 6, 0, tzinfo=timezone.utc)
JUNE = Period(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc), "2026-06")


@pytest.fixture(scope="module")
def designed(tmp_path_factory, gazetteer):
    db = tmp_path_factory.mktemp("designed") / "designed.db"
    roles = write_designed(db, gazetteer, days=2)
    cl, inputs = classify_store(db, gazetteer=gazetteer, keep_samples=True)
    return db, roles, cl, inputs


# --------------------------------------------------------------------------- end to end, store -> statuses
def test_statuses_known_by_construction(designed):
    _db, roles, cl, _ = designed
    rows = cl.by_operator.set_index(["kato", "operator"])
    checked = 0
    for role, ops in DESIGN.items():
        for op, (_cond, mobile, internet) in ops.items():
            r = rows.loc[(roles[role], op)]
            assert (r.mobile_status, r.internet_status) == (mobile, internet), (role, op, r.to_dict())
            assert r.mobile_judged and r.internet_judged and not r.thin_data, (role, op)
            assert r.samples == 40 and r.days == 2
            checked += 1
    assert checked == sum(len(v) for v in DESIGN.values())
    assert set(cl.by_operator["rule_set_version"]) == {RULES.version}


def test_best_of_operators(designed):
    _db, roles, cl, _ = designed
    best = cl.settlements.set_index("kato")
    for role, (mobile, internet) in BEST.items():
        r = best.loc[roles[role]]
        assert (r.mobile_status, r.internet_status) == (mobile, internet), role
    assert best.loc[roles["mixed"]].best_mobile_operator == "401-77"
    assert best.loc[roles["mixed"]].operators_measured == 3
    # every gazetteer settlement has a row; unmeasured ones are marked so
    assert len(cl.settlements) == len(gazetteer_of(cl))
    unmeasured = cl.settlements[~cl.settlements["kato"].isin(roles.values())]
    assert set(unmeasured["mobile_status"]) == {"unmeasured"} and not unmeasured["measured"].any()


def test_evidence_counts_and_signal(designed):
    _db, roles, cl, _ = designed
    r = cl.by_operator.set_index(["kato", "operator"]).loc[(roles["good4g"], KCELL)]
    assert r.speedtests == 4 and r.speedtest_days == 2 and r.speedtests_failed == 0
    assert -100 < r.median_rsrp_dbm < -80 and r.best_rsrp_dbm >= r.median_rsrp_dbm
    assert 10 < r.median_download_mbps < 40
    weak = cl.by_operator.set_index(["kato", "operator"]).loc[(roles["weak4g"], KCELL)]
    assert weak.technologies == "LTE" and weak.median_rsrp_dbm < -115 and weak.speedtests_failed == 4


def test_district_rollup_counts_the_judged_findings(designed):
    _db, roles, cl, _ = designed
    d = cl.districts
    region_all = d[(d["district_kato"] == "610000000") & (d["scope"] == "all")].iloc[0]
    in_61 = sum(1 for s in gazetteer_of(cl) if s.populated and s.region_kato == "610000000")
    assert region_all.settlements == in_61  # cities, towns, villages of Turkistan region
    assert region_all.measured == len(roles) and region_all.unmeasured == in_61 - len(roles)
    assert region_all.without_mobile == sum(1 for m, _ in BEST.values() if m == "no_service")
    assert region_all.only_2g == 1
    assert region_all.without_internet == sum(1 for _, i in BEST.values() if i == "none")
    assert region_all.internet_below_standard == 1
    kcell = d[(d["district_kato"] == "610000000") & (d["scope"] == KCELL)].iloc[0]
    assert kcell.measured == len(roles)
    assert kcell.without_mobile == sum(1 for ops in DESIGN.values() if KCELL in ops and ops[KCELL][1] == "no_service")
    # district rows add up to their region's row, and region rows to the total, for every scope and column
    g = gazetteer_of(cl)
    for scope, part in d.groupby("scope"):
        total = part[part["level"] == "total"].iloc[0]
        regions = part[part["level"] == "region"]
        assert list(regions["district_kato"]) == list(g.regions)
        for rk in g.regions:
            region = regions[regions["district_kato"] == rk].iloc[0]
            districts = part[(part["level"] == "district") & (part["region_kato"] == rk)]
            assert set(districts["district_kato"]) == {s.district_kato for s in g if s.region_kato == rk}
            for col in ("settlements", "measured", "without_mobile", "without_internet", "thin_data"):
                assert districts[col].sum() == region[col], (scope, rk, col)
        for col in ("settlements", "measured", "without_mobile", "without_internet", "thin_data"):
            assert regions[col].sum() == total[col], (scope, col)


def gazetteer_of(cl):
    from qamtu.mapping.gazetteer import Gazetteer

    g = Gazetteer.load()
    assert len(g.regions) == 4  # the inspection's territory: 79, 31, 61, 43
    return g


def test_thin_data_is_shown_but_not_counted(tmp_path, gazetteer):
    db = tmp_path / "thin.db"
    roles = write_designed(db, gazetteer, days=1)        # one day: below min_days = 2
    cl, _ = classify_store(db, gazetteer=gazetteer)
    r = cl.by_operator.set_index(["kato", "operator"]).loc[(roles["nothing"], KCELL)]
    assert r.mobile_status == "no_service" and not r.mobile_judged and r.thin_data
    assert "days 1 < 2" in r.thin_reasons
    region = cl.districts[(cl.districts["district_kato"] == "610000000") & (cl.districts["scope"] == "all")].iloc[0]
    assert region.measured == len(roles) and region.judged == 0 and region.thin_data == len(roles)
    assert region.without_mobile == 0 and region.without_internet == 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_store_reader_equals_samples_frame(designed, monkeypatch, workers):
    """The fast reader (in one process, and split over two processes as for big stores) returns the
    same rows as Store.samples_frame."""
    monkeypatch.setenv("QAMTU_READ_WORKERS", workers)
    db, _roles, _cl, inputs = designed
    with Store(db) as store:
        ref = store.samples_frame()
        fast = read_inputs(store).samples
    assert len(fast) == len(ref)
    key = ["time_utc", "operator_mnc", "kato"]            # the reader returns table order, not time order
    fast = fast.astype({c: object for c in ("kato", "status", "technology", "operator_mnc")}).sort_values(key)
    ref = ref.sort_values(key)
    assert (fast["time_utc"].dt.tz_convert(None).to_numpy() == ref["time_utc"].dt.tz_convert(None).to_numpy()).all()
    for col in ("kato", "status", "technology", "operator_mnc"):
        assert list(fast[col].astype(object)) == list(ref[col].astype(object)), col
    np.testing.assert_allclose(fast["rsrp_dbm"].to_numpy(float), ref["rsrp_dbm"].to_numpy(float), equal_nan=True)


def test_operator_and_period_filters(designed, gazetteer):
    db, roles, _cl, _ = designed
    cl, _ = classify_store(db, gazetteer=gazetteer, operators=["Kcell"])
    assert cl.operators == [KCELL] and set(cl.by_operator["operator"]) == {KCELL}
    cl, _ = classify_store(db, gazetteer=gazetteer, period="2025")
    assert cl.counts["samples_in_period"] == 0 and not cl.settlements["measured"].any()
    cl, _ = classify_store(db, gazetteer=gazetteer, period="2026-06-01..2026-06-01")   # first day only
    assert cl.by_operator["days"].max() == 1 and not cl.by_operator["mobile_judged"].any()


# --------------------------------------------------------------------------- frame-level rules
def _samples(rows: list[dict]) -> pd.DataFrame:
    base = {"status": "ok", "operator_mcc": "401", "operator_mnc": "02", "technology": "LTE", "rsrp_dbm": -90.0,
            "rscp_dbm": np.nan, "rssi_dbm": np.nan, "kato": None}
    df = pd.DataFrame([{**base, **r} for r in rows], columns=[*base, "time_utc"])
    df["time_utc"] = pd.to_datetime(df["time_utc"], utc=True)
    return df


def _tests(rows: list[dict]) -> pd.DataFrame:
    base = {"operator_mcc": "401", "operator_mnc": "02", "technology": "LTE", "valid": True,
            "consumer_comparable_only": False, "download_mbps": 10.0, "upload_mbps": 2.0, "failure_cause": None,
            "kato": None, "method": "qamtu-http"}
    cols = list(base) + ["time_utc"]
    df = pd.DataFrame([{**base, **r} for r in rows], columns=cols)
    df["time_utc"] = pd.to_datetime(df["time_utc"], utc=True)
    return df


def _village(gazetteer) -> str:
    return next(s.kato for s in gazetteer if s.located and s.kind == "village")


def _good_samples(kato: str, n: int = 40) -> pd.DataFrame:
    return _samples([{"kato": kato, "time_utc": T0 + timedelta(days=i % 2, seconds=i)} for i in range(n)])


@pytest.mark.parametrize("below, expected", [(1, "meets_standard"), (2, "below_standard")])
def test_ten_percent_rule(gazetteer, below, expected):
    kato = _village(gazetteer)
    tests = _tests([{"kato": kato, "time_utc": T0 + timedelta(days=i % 2, minutes=i),
                     "download_mbps": 4.0 if i < below else 9.0} for i in range(10)])
    r = classify(_good_samples(kato), tests, gazetteer, RULES, JUNE).by_operator.iloc[0]
    assert r.speedtests == 10 and r.speedtests_below == below
    assert r.share_below_standard == pytest.approx(below / 10)
    assert r.internet_status == expected and r.internet_judged


def test_consumer_only_and_invalid_tests_are_never_evidence(gazetteer):
    kato = _village(gazetteer)
    rows = [{"kato": kato, "time_utc": T0 + timedelta(days=i % 2, minutes=i), "download_mbps": 50.0,
             "consumer_comparable_only": True, "method": "speedtest-cli"} for i in range(6)]
    rows += [{"kato": kato, "time_utc": T0 + timedelta(days=i % 2, minutes=30 + i), "valid": False,
              "download_mbps": 80.0} for i in range(6)]                           # invalid: never a speed
    r = classify(_good_samples(kato), _tests(rows), gazetteer, RULES, JUNE).by_operator.iloc[0]
    assert r.speedtests == 0 and r.speedtests_excluded == 6
    assert r.internet_status == "not_measured" and not r.internet_judged and r.thin_data
    assert pd.isna(r.median_download_mbps)


def test_weak_signal_and_thresholds_come_from_the_rule_set(gazetteer, tmp_path):
    kato = _village(gazetteer)
    samples = _good_samples(kato)
    samples["rsrp_dbm"] = -110.0                  # between -115 (coverage) and -105 (good)
    assert classify(samples, _tests([]), gazetteer, RULES, JUNE).by_operator.iloc[0].mobile_status == "4g"
    text = RULES.path and open(RULES.path, encoding="utf-8").read()
    stricter = text.replace("coverage_min_dbm = -115.0", "coverage_min_dbm = -105.0", 1).replace(
        'version = "kz-coverage-2026.1"', 'version = "test-strict"')
    path = tmp_path / "strict.toml"
    path.write_text(stricter, encoding="utf-8")
    strict = load_rules(path)
    r = classify(samples, _tests([]), gazetteer, strict, JUNE).by_operator.iloc[0]
    assert r.mobile_status == "no_service" and r.rule_set_version == "test-strict"


def test_modem_lost_untagged_and_unknown_kato_are_left_out(gazetteer):
    kato = _village(gazetteer)
    samples = pd.concat([_good_samples(kato),
                         _samples([{"kato": kato, "status": "modem_lost", "technology": None, "time_utc": T0}] * 50),
                         _samples([{"kato": None, "time_utc": T0}] * 3),
                         _samples([{"kato": "619999999", "time_utc": T0}] * 2)], ignore_index=True)
    cl = classify(samples, _tests([]), gazetteer, RULES, JUNE)
    assert cl.counts["samples_modem_lost"] == 50 and cl.counts["samples_untagged"] == 3
    assert cl.counts["samples_unknown_kato"] == 2
    r = cl.by_operator.iloc[0]
    assert len(cl.by_operator) == 1 and r.samples == 40 and r.mobile_status == "4g"


def test_missing_columns_and_bad_periods_are_clear_errors(gazetteer):
    with pytest.raises(ClassificationError, match="samples frame: missing column.*rsrp_dbm"):
        classify(_good_samples("611010000").drop(columns=["rsrp_dbm"]), _tests([]), gazetteer, RULES, JUNE)
    for bad in ("2026-13", "yesterday", "2026-06-05..2026-06-01", "0d"):
        with pytest.raises(ClassificationError, match="--period"):
            parse_period(bad, RULES)


def test_period_forms():
    latest = datetime(2026, 6, 15, 13, 0, tzinfo=timezone.utc)
    p = parse_period(None, RULES, latest)
    assert p.end == datetime(2026, 6, 16, tzinfo=timezone.utc) and (p.end - p.start).days == RULES.window.days
    assert parse_period("2026-02", RULES).end == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert parse_period("2026-12", RULES).end == datetime(2027, 1, 1, tzinfo=timezone.utc)
    p = parse_period("2026-06-01..2026-06-30", RULES)
    assert p.label == "2026-06-01 – 2026-06-30" and p.end == datetime(2026, 7, 1, tzinfo=timezone.utc)
    assert (parse_period("90d", RULES, latest).end - parse_period("90d", RULES, latest).start).days == 90


# --------------------------------------------------------------------------- property: vectorised == brute force
from hypothesis import given, settings, strategies as st   # noqa: E402

_TECHS = ["none", "GSM", "UMTS", "LTE", "NR-NSA", "NR-SA", None]


def _brute_mobile_level(rows: list[tuple[str, str | None, float]]) -> int:
    """The rule written out plainly for one group: level per sample, then the highest level reached
    by at least min_share of the samples."""
    levels = []
    for status, tech, rsrp in rows:
        if status == "modem_lost":
            continue
        if status == "no_service" or tech in (None, "none"):
            levels.append(0)
            continue
        rule = RULES.mobile.signal[tech]
        weak = rule.coverage_min_dbm is not None and rule.metric == "rsrp_dbm" and rsrp < rule.coverage_min_dbm
        levels.append(0 if weak else RULES.mobile.levels[tech])
    best = 0
    for level in range(1, max(RULES.mobile.levels.values()) + 1):
        if sum(v >= level for v in levels) / len(levels) >= RULES.mobile.min_share:
            best = level
    return best


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["ok", "ok", "ok", "no_service", "modem_lost"]),
                          st.sampled_from(_TECHS), st.floats(-140, -60)), min_size=1, max_size=80))
def test_mobile_level_equals_the_rule_written_out(gazetteer, rows):
    katos = sorted(s.kato for s in gazetteer if s.located)[:3]
    small = Gazetteer([gazetteer.get(k) for k in katos])          # three settlements: fast examples
    frame = _samples([{"kato": katos[k], "status": status, "technology": tech, "rsrp_dbm": rsrp,
                       "time_utc": T0 + timedelta(minutes=i)} for i, (k, status, tech, rsrp) in enumerate(rows)])
    got = classify(frame, _tests([]), small, RULES, JUNE).by_operator.set_index("kato")
    for k in range(3):
        group = [(s, t, r) for kk, s, t, r in rows if kk == k]
        if all(s == "modem_lost" for s, _t, _r in group):
            assert katos[k] not in got.index
            continue
        assert got.loc[katos[k], "mobile_level"] == _brute_mobile_level(group), group


def test_generic_store_path_gives_the_same_classification(designed, gazetteer):
    """Stores other than SQLite (the PostgreSQL one) are read through samples_frame/speedtests_frame."""
    db, _roles, cl, _ = designed
    with Store(db) as store:
        slow = read_inputs(store, fast=False)
        fast = read_inputs(store)
    assert slow.period == fast.period and slow.synthetic_sessions == fast.synthetic_sessions == 6
    other = classify(slow.samples, slow.speedtests, gazetteer, RULES, slow.period)
    ref = classify(fast.samples, fast.speedtests, gazetteer, RULES, fast.period)
    cols = ["kato", "operator", "mobile_status", "internet_status", "samples", "speedtests", "days"]
    pd.testing.assert_frame_equal(other.by_operator[cols], cl.by_operator[cols])   # cl: from the daily aggregates
    pd.testing.assert_frame_equal(other.by_operator[cols], ref.by_operator[cols])
    np.testing.assert_allclose(other.by_operator["median_rsrp_dbm"], ref.by_operator["median_rsrp_dbm"], equal_nan=True)


def test_postgresql_store_classifies_like_the_laptop_file(designed, gazetteer):
    """`--db postgresql://…` (the regional store): same classification as the SQLite file it was pushed from."""
    from pg import Cluster, pg_bin, postgis_available

    from qamtu.probe.push import push
    from qamtu.probe.store import sample_store

    assert pg_bin() is not None and postgis_available(), "PostgreSQL/PostGIS missing (.ci/run installs them)"
    db, _roles, cl, _ = designed
    cluster = Cluster().start()
    try:
        url = cluster.create_db("coverage")
        with Store(db) as src:
            dst = sample_store(url)
            push(src, dst)
            dst.close()
        other, inputs = classify_store(url, gazetteer=gazetteer)
        assert inputs.synthetic_sessions == 6
        cols = ["kato", "operator", "mobile_status", "internet_status", "samples", "speedtests", "days", "thin_data"]
        pd.testing.assert_frame_equal(other.by_operator[cols], cl.by_operator[cols])
        pd.testing.assert_frame_equal(other.districts, cl.districts)
    finally:
        cluster.stop()


def _brute_internet(tests: list[tuple], mobile_level: int, mobile_judged: bool) -> tuple[str, bool]:
    """The internet rule written out plainly for one settlement x operator."""
    ev = RULES.evidence
    evidence, failed, days_ev = [], 0, set()
    for day, tech, valid, consumer, dl, failure in tests:
        if consumer:
            continue
        if valid and dl is not None and (tech in RULES.internet.download_min_mbps or tech == "GSM"):
            threshold = RULES.internet.download_min_mbps.get(tech)
            evidence.append(threshold is None or dl < threshold)      # True = below the standard
            days_ev.add(day)
        elif not valid and failure is not None:
            failed += 1
            days_ev.add(day)
    enough_days = len(days_ev) >= ev.min_days
    status, judged = "not_measured", False
    if evidence:
        share = sum(evidence) / len(evidence)
        status = "meets_standard" if share <= RULES.internet.max_share_below + 1e-12 else "below_standard"
        judged = len(evidence) >= ev.min_speedtests and enough_days
    elif failed:
        status, judged = "none", failed >= ev.min_speedtests and enough_days
    if mobile_judged and mobile_level < RULES.internet.min_level and not (judged and status == "meets_standard"):
        status, judged = "none", True
    return status, judged


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["GSM", "UMTS", "LTE", "NR-NSA", None]), st.booleans(),
                          st.sampled_from([False, False, False, True]), st.floats(0.1, 12),
                          st.sampled_from([None, "server_unreachable"])), min_size=0, max_size=25),
       st.sampled_from(["GSM", "UMTS", "LTE"]), st.integers(0, 40))
def test_internet_status_equals_the_rule_written_out(gazetteer, tests, sample_tech, n_samples):
    kato = sorted(s.kato for s in gazetteer if s.located)[0]
    small = Gazetteer([gazetteer.get(kato)])
    samples = _samples([{"kato": kato, "technology": sample_tech, "rsrp_dbm": -90.0,
                         "time_utc": T0 + timedelta(days=i % 2, seconds=i)} for i in range(n_samples)])
    rows = [{"kato": kato, "time_utc": T0 + timedelta(days=d, minutes=i), "technology": tech, "valid": valid,
             "consumer_comparable_only": consumer, "download_mbps": dl if valid else None,
             "failure_cause": None if valid else failure}
            for i, (d, tech, valid, consumer, dl, failure) in enumerate(tests)]
    cl = classify(samples, _tests(rows), small, RULES, JUNE)
    if not len(cl.by_operator):
        assert not tests and not n_samples
        return
    r = cl.by_operator.iloc[0]
    expected_tests = [(d, tech, valid, consumer, dl if valid else None, None if valid else failure)
                      for d, tech, valid, consumer, dl, failure in tests]
    assert (r.internet_status, bool(r.internet_judged)) == _brute_internet(
        expected_tests, int(r.mobile_level), bool(r.mobile_judged))
