"""Regional store on PostgreSQL/PostGIS and merging inspectors' files (`qamtu db push`).

A real PostgreSQL with PostGIS runs for these tests: a throwaway cluster on a free port (see
tests/pg.py; `.ci/run` installs the Debian packages). No database is mocked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timezone

import pytest

from conftest import QAMTU, run_qamtu
from test_inspection_helpers import inspection_row

from qamtu.probe.push import push
from qamtu.probe.store import Store, sample_store
from qamtu.store import StoreError
from qamtu.probe.synthetic import Campaign, Condition, write_campaign

PLACES = {"611633100": (42.467228, 68.904243), "614657100": (42.488, 69.41), "611010000": (43.301946, 68.27037)}


_n = iter(range(10**6))


@pytest.fixture
def pg_url(cluster):
    return cluster.create_db(f"t{next(_n)}")


def _laptop(path, *, days=2, seed=1, start_day=1, samples=6):
    with Store(path) as st:
        write_campaign(st, Campaign(PLACES, lambda k, o: Condition("LTE", -95, 9, 2), days=days, seed=seed,
                                    samples_per_visit=samples, speedtests_per_visit=1,
                                    start=datetime(2026, 6, start_day, 6, tzinfo=timezone.utc)))
    return path


def _rewrite(store, sid, seq, edit):
    """Replace record ``seq``'s payload by ``edit(payload)`` and chain the rest of the session again
    (what a forger with the file would do; projections are left as they were)."""
    from qamtu.store.chain import record_hash

    rows = store.records(sid)
    prev = rows[seq - 2]["hash"] if seq > 1 else "0" * 64
    for r in rows[seq - 1:]:
        payload = edit(r["payload"]) if r["seq"] == seq else r["payload"]
        h = record_hash(sid, r["seq"], r["record_id"], r["kind"], r["time_utc"], prev, payload)
        store.execute("UPDATE records SET payload = ?, prev_hash = ?, hash = ? WHERE record_id = ?",
                           (payload, prev, h, r["record_id"]))
        prev = h


def _count(store, table="records"):
    return store.scalar(f"SELECT COUNT(*) FROM {table}")


def test_push_to_postgis_is_exact_idempotent_and_chains_hold(tmp_path, pg_url):
    src = Store(_laptop(tmp_path / "a.db"))
    dst = sample_store(pg_url)
    n = _count(src)
    first = push(src, dst)
    assert (first.added, first.skipped, first.rejected) == (n, 0, 0)
    again = push(src, dst)
    assert (again.added, again.skipped, again.rejected) == (0, n, 0)
    assert _count(dst) == n and _count(dst, "samples") == _count(src, "samples")
    assert all(r.ok for r in dst.verify()) and len(dst.verify()) == 2
    assert {s["status"] for s in dst.sessions()} == {"closed"}
    a, b = src.samples_frame(), dst.samples_frame()
    assert list(a["record_id"]) == list(b["record_id"]) and (a["rsrp_dbm"] == b["rsrp_dbm"]).all()
    geo = dst.rows("SELECT COUNT(*), COUNT(geom), MIN(ST_SRID(geom)) FROM samples")[0]
    assert geo == (len(a), a["lat"].notna().sum(), 4326)
    within = dst.scalar("SELECT COUNT(*) FROM samples WHERE ST_DWithin(geom::geography, "
                      "ST_SetSRID(ST_MakePoint(68.27037, 43.301946), 4326)::geography, 500)")
    assert within == (a["kato"] == "611010000").sum()


def test_push_resumes_after_an_interruption(tmp_path, pg_url):
    src = Store(_laptop(tmp_path / "a.db", samples=40))
    dst = sample_store(pg_url)
    calls = []

    def stop_after_first_batch(sid, done, total):
        calls.append(done)
        raise KeyboardInterrupt  # the cable is pulled

    with pytest.raises(KeyboardInterrupt):
        push(src, dst, batch=100, progress=stop_after_first_batch)
    partial = _count(dst)
    assert partial == 100
    assert dst.verify()[0].ok, "a partly pushed session is a valid prefix of its chain"
    rest = push(src, dst, batch=100)
    assert rest.added == _count(src) - partial and rest.skipped == partial and rest.rejected == 0
    assert all(r.ok for r in dst.verify())


def test_known_id_with_other_content_is_rejected_and_never_overwritten(tmp_path, pg_url):
    path = _laptop(tmp_path / "a.db", days=1)
    dst = sample_store(pg_url)
    with Store(path) as src:
        push(src, dst)
        sid = src.sessions()[0]["session_id"]
    # someone rewrites record 5 and re-chains the rest of the session in their copy
    forged = tmp_path / "forged.db"
    shutil.copy(path, forged)
    with Store(forged) as f:
        rows = f.records(sid)
        _rewrite(f, sid, 5, lambda text: text.replace('"imei":"000000000000002"', '"imei":"999999999999999"'))
        assert f.verify(sid)[0].records == len(rows)
    before = dst.scalar("SELECT payload FROM records WHERE session_id = %s AND seq = 5".replace("%s", "?"), (sid,))
    with Store(forged) as f:
        report = push(f, dst)
    s = report.sessions[0]
    assert s.status == "rejected" and s.rejected[0]["seq"] == 5 and "other content" in s.rejected[0]["reason"]
    assert s.rejected_count == len(rows) - 4 and s.skipped == 4
    after = dst.scalar("SELECT payload FROM records WHERE session_id = ? AND seq = 5", (sid,))
    assert after == before and dst.verify(sid)[0].ok


def test_broken_source_chain_rejects_the_whole_session(tmp_path, pg_url):
    path = _laptop(tmp_path / "a.db")
    with Store(path) as src:
        sid = src.sessions()[0]["session_id"]
        src.execute("UPDATE records SET payload = replace(payload, '\"inspector\":\"synthetic\"', "
                         "'\"inspector\":\"forged\"') WHERE session_id = ? AND seq = 9", (sid,))
        out = run_qamtu("db", "push", "--from", str(path), "--to", pg_url, "--json", check=False)
    assert out.returncode == 1
    data = json.loads(out.stdout)
    bad = next(s for s in data["sessions"] if s["session_id"] == sid)
    assert bad["status"] == "rejected" and bad["added"] == 0 and "record 9" in bad["reason"]
    good = next(s for s in data["sessions"] if s["session_id"] != sid)
    assert good["status"] == "accepted" and good["added"] == good["records"]
    with sample_store(pg_url) as dst:
        assert {s["session_id"] for s in dst.sessions()} == {good["session_id"]}


def test_eight_processes_pushing_overlapping_files(tmp_path, pg_url):
    files = [_laptop(tmp_path / f"laptop{i}.db", days=1, seed=i, start_day=i + 1) for i in range(4)]
    # laptop 4 carries copies of laptop 0 and 1's sessions too (an inspector merged them by hand)
    merged = tmp_path / "merged.db"
    with Store(merged) as m:
        for f in files[:2]:
            with Store(f) as src:
                push(src, m)
    sources = [*files, merged, files[0], files[2], merged]  # 8 pushes, heavily overlapping
    procs = [subprocess.Popen([str(QAMTU), "db", "push", "--from", str(f), "--to", pg_url, "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in sources]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    expected = {}
    for f in files:
        with Store(f) as st:
            for s in st.sessions():
                expected[s["session_id"]] = s["records"]
    with sample_store(pg_url) as dst:
        assert {s["session_id"]: s["records"] for s in dst.sessions()} == expected
        assert _count(dst) == sum(expected.values())
        assert dst.scalar("SELECT COUNT(*) FROM (SELECT session_id, seq FROM records GROUP BY 1, 2 "
                        "HAVING COUNT(*) > 1) d") == 0
        assert all(r.ok for r in dst.verify())
    assert sum(r["added"] for r in results) == sum(expected.values()), "every record added exactly once"
    assert all(r["rejected"] == 0 for r in results)


def test_sqlite_to_sqlite_and_cli_on_postgres(tmp_path, pg_url):
    a = _laptop(tmp_path / "a.db", days=1)
    out = json.loads(run_qamtu("db", "push", "--from", str(a), "--to", str(tmp_path / "office.db"), "--json").stdout)
    assert out["added"] > 0 and out["rejected"] == 0
    run_qamtu("db", "push", "--from", str(tmp_path / "office.db"), "--to", pg_url)
    listed = json.loads(run_qamtu("sessions", "list", "--db", pg_url, "--json").stdout)
    assert len(listed) == 1 and listed[0]["samples"] == 3 * 3 * 6
    checked = json.loads(run_qamtu("sessions", "check", "--db", pg_url, "--json").stdout)
    assert checked[0]["ok"]
    same = run_qamtu("db", "push", "--from", str(a), "--to", str(a), check=False)
    assert same.returncode == 1 and "same store" in same.stderr


def test_bad_url_is_a_clear_error(cluster):
    with pytest.raises(StoreError, match=r"postgresql://qamtu:\*\*\*@127\.0\.0\.1:1/x: cannot connect"):
        sample_store("postgresql://qamtu:secret@127.0.0.1:1/x")


def test_probe_records_straight_into_postgis(tmp_path, pg_url):
    from qamtu.device.scenario import SimClock, static_route
    from qamtu.device.simulator import SimGnss, SimModem
    from qamtu.probe.capture import Capture, CaptureConfig
    from qamtu.probe.clock import ScaledClock

    route = static_route()
    clock = SimClock(speed=10, start_utc=route.start_utc)
    devices = [SimModem("telit-le910", route, operator="401-07", clock=clock, link_dir=tmp_path).start(),
               SimGnss(route, clock=clock, link_dir=tmp_path).start()]
    try:
        with sample_store(pg_url) as st:
            cfg = CaptureConfig(ports=[devices[0].path], gnss=devices[1].path, inspector="Office", duration_s=60)
            summary = Capture(st, cfg, clock=ScaledClock(clock)).run()
            assert summary["samples"] >= 40
            df = st.samples_frame(operator="401-07")
            assert len(df) == summary["samples"] and set(df["technology"]) == {"LTE"}
            assert st.verify()[0].ok and st.sessions()[0]["status"] == "closed"
            tagged = st.scalar("SELECT COUNT(*) FROM samples WHERE geom IS NOT NULL AND kato = '611010000'")
            assert tagged >= summary["samples"] - 12  # all but the readings before the first fix
    finally:
        for d in devices:
            d.stop()


def test_inspection_records_are_merged_and_clashing_ids_rejected(tmp_path, pg_url):
    a = Store(_laptop(tmp_path / "a.db", days=1))
    row = inspection_row("INSP-2026-0001", "613977700", address="Сәмбет Саттаров а.")
    a.execute("INSERT INTO inspections VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
    dst = sample_store(pg_url)
    assert push(a, dst).merged["inspections"].as_dict() == {"added": 1, "skipped": 0, "rejected": []}
    assert push(a, dst).merged["inspections"].skipped == 1
    other = Store(tmp_path / "b.db")  # another laptop numbered its own inspection the same way
    other.execute("INSERT INTO inspections VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  inspection_row("INSP-2026-0001", "611010000"))
    report = push(other, dst)
    assert [r["inspection_id"] for r in report.merged["inspections"].rejected] == ["INSP-2026-0001"]
    kept = dst.query("SELECT kato, record FROM inspections")
    assert kept == [{"kato": "613977700", "record": row[-1]}], "never overwritten"
    # the command lists the rejected inspection and fails, although every session went in
    cli = run_qamtu("db", "push", "--from", str(tmp_path / "b.db"), "--to", pg_url, check=False)
    assert cli.returncode == 1, cli.stdout
    assert "inspections: added 0, skipped 0, rejected 1" in cli.stdout
    assert "rejected inspection_id INSP-2026-0001: the target holds an inspection with this id" in cli.stdout
    out = json.loads(run_qamtu("db", "push", "--from", str(tmp_path / "a.db"), "--to", pg_url, "--json").stdout)
    assert out["rejected"] == 0 and out["merged"] == {"inspections": {"added": 0, "skipped": 1, "rejected": []}}


def test_inspection_records_that_do_not_validate_are_rejected_not_merged(tmp_path, pg_url):
    """The office's pages read every inspection record: a damaged one must not reach its store."""
    a = Store(_laptop(tmp_path / "a.db", days=1))
    good = inspection_row("INSP-2026-0002", "613977700")
    a.execute("INSERT INTO inspections VALUES (?, ?, ?, ?, ?, ?, ?, ?)", good)
    a.execute("INSERT INTO inspections VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              (*inspection_row("INSP-2026-0003", "613977700")[:7], '{"address": "no other field"}'))
    edited = inspection_row("INSP-2026-0004", "613977700")
    a.execute("INSERT INTO inspections VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*edited[:4], "611010000", *edited[5:]))
    result = push(a, sample_store(pg_url)).merged["inspections"]
    assert result.added == 1 and result.skipped == 0
    reasons = {r["inspection_id"]: r["reason"] for r in result.rejected}
    assert set(reasons) == {"INSP-2026-0003", "INSP-2026-0004"}
    assert reasons["INSP-2026-0003"].startswith("its record does not validate as an inspection (record: field '")
    assert reasons["INSP-2026-0004"].startswith("its columns kato differ from its record")
    assert sample_store(pg_url).query("SELECT inspection_id FROM inspections") == [{"inspection_id": "INSP-2026-0002"}]


def test_a_batch_that_lost_a_race_is_inserted_the_careful_way(tmp_path, pg_url):
    """Another pusher committed part of the batch after our check: the fast COPY fails on the
    unique key, and the batch is inserted row by row without the rows already there."""
    from qamtu.probe.push import _ensure_session, _insert_batch, _rows, _session_row, SessionPush

    src = Store(_laptop(tmp_path / "a.db", days=1))
    dst = sample_store(pg_url)
    sid = src.sessions()[0]["session_id"]
    assert _ensure_session(dst, _session_row(src, sid), SessionPush(sid))
    rows = next(_rows(src, sid, 40))
    assert _insert_batch(dst, rows[5:10]) == {r[0] for r in rows[5:10]}  # the other pusher's rows
    inserted = _insert_batch(dst, rows)
    assert inserted == {r[0] for r in rows[:5] + rows[10:]}
    assert (_count(dst) == len(rows)
            and _count(dst, "samples") + _count(dst, "events") + _count(dst, "speedtests") == len(rows))


def test_parallel_workers_push_every_session_exactly_once(tmp_path, pg_url):
    src = Store(_laptop(tmp_path / "a.db", days=4))
    report = push(src, sample_store(pg_url), workers=3)
    assert (report.added, report.skipped, report.rejected) == (_count(src), 0, 0)
    assert sorted(s.session_id for s in report.sessions) == sorted(s["session_id"] for s in src.sessions())
    with sample_store(pg_url) as dst:
        assert _count(dst) == _count(src) and all(r.ok for r in dst.verify()) and len(dst.verify()) == 4
        again = push(src, dst, workers=3)
    assert (again.added, again.skipped) == (0, _count(src))


def test_references_are_checked_once_per_statement_on_postgres(tmp_path, pg_url):
    """Migration 4: PostgreSQL checks what the foreign keys said with statement triggers (see
    probe/sql/0002.postgresql.sql); every way of breaking a reference is still refused, and nothing of a
    refused statement stays."""
    from qamtu.probe.push import _projection_rows, _rows

    src = Store(_laptop(tmp_path / "a.db", days=1))
    dst = sample_store(pg_url)
    push(src, dst)
    assert dst.scalar("SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f'") == 0
    assert src.rows("PRAGMA foreign_key_list(samples)"), "SQLite keeps its foreign keys"
    sid = src.sessions()[0]["session_id"]
    sample_id = dst.scalar("SELECT record_id FROM samples ORDER BY seq LIMIT 1")
    before = {t: _count(dst, t) for t in ("sessions", "records", "samples")}

    def refused(sql, params=(), match=""):
        with pytest.raises(StoreError, match=f"ForeignKeyViolation.*{match}"):
            dst.execute(sql, params)

    refused("INSERT INTO records (record_id, session_id, seq, kind, time_utc, payload, prev_hash, hash) "
            "VALUES ('r-x', 'no-such-session', 1, 'event', 't', '{}', 'p', 'h')",
            match="records.session_id no-such-session refers to no row of sessions")
    refused("UPDATE samples SET record_id = 'no-such-record' WHERE record_id = ?", (sample_id,),
            match="samples.record_id")
    refused("DELETE FROM records WHERE record_id = ?", (sample_id,), match=f"records.record_id {sample_id} is still "
                                                                          "referred to by samples")
    refused("UPDATE records SET record_id = 'renamed' WHERE record_id = ?", (sample_id,), match="still referred to")
    refused("DELETE FROM sessions WHERE session_id = ?", (sid,), match="sessions.session_id")
    # one orphan in a COPY of 40 rows refuses the whole COPY
    other = _laptop(tmp_path / "b.db", days=1, seed=7, start_day=9)
    with Store(other) as b:
        rows = next(_rows(b, b.sessions()[0]["session_id"], 40))
    cols, values = _projection_rows(rows)["samples"]
    with pytest.raises(StoreError, match="ForeignKeyViolation.*refers to no row of records"):
        with dst.transaction() as tx:
            tx.copy("samples", cols, values, dst.column_types("samples", cols))
    assert {t: _count(dst, t) for t in before} == before
    # a reference that is not broken is not refused: a sample and then its record may go
    with dst.transaction() as tx:
        tx.execute("DELETE FROM samples WHERE record_id = ?", (sample_id,))
        tx.execute("DELETE FROM records WHERE record_id = ?", (sample_id,))
    assert _count(dst) == before["records"] - 1


def test_a_version_3_office_database_is_migrated_to_statement_checks(tmp_path, pg_url):
    import psycopg

    from legacy_store import build_postgres, copy_rows
    from qamtu.store.migrations import latest

    src = Store(_laptop(tmp_path / "a.db", days=1))
    build_postgres(pg_url, 3)  # as qamtu 0.1.0 left an office database at version 3, with its data
    copy_rows(src, pg_url)
    with psycopg.connect(pg_url) as old:
        assert old.execute("SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f'").fetchone()[0] == 4
    with sample_store(pg_url) as dst:
        assert dst.schema_versions() == latest() and latest()["probe"] >= 2
        assert dst.scalar("SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f'") == 0
        checks = {r[0] for r in dst.rows("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
        assert {"records_session_id_insert_check", "samples_record_id_insert_check",
                "records_samples_delete_check", "sessions_records_delete_check"} <= checks
        assert _count(dst) == _count(src) and all(r.ok for r in dst.verify())
        assert push(src, dst).skipped == _count(src)


def test_a_value_the_typed_copy_refuses_goes_in_as_text(tmp_path, pg_url):
    """Merges COPY in PostgreSQL's binary format, typed by the target's columns. A chained payload
    with a number where its model has text (band 3, not "B3") is copied as text, as before."""
    path = _laptop(tmp_path / "a.db", days=1)
    with Store(path) as f:
        sid = f.sessions()[0]["session_id"]
        seq = next(r["seq"] for r in f.records(sid) if r["kind"] == "sample")
        _rewrite(f, sid, seq, lambda text: text.replace('"band":null', '"band":3', 1))
        assert f.verify(sid)[0].records == len(f.records(sid)) and '"band":3' in f.records(sid)[seq - 1]["payload"]
        report = push(f, sample_store(pg_url))
        n = _count(f)
    assert (report.added, report.rejected) == (n, 0)
    with sample_store(pg_url) as dst:
        assert dst.scalar("SELECT band FROM samples WHERE session_id = ? AND seq = ?", (sid, seq)) == "3"


def test_a_session_longer_than_the_memory_cap_is_read_again_for_the_copy(tmp_path, pg_url, monkeypatch):
    """The chain check keeps what it read for the copy up to push.KEEP_BYTES of payloads; past that
    the copy reads the source again, with the same result."""
    import qamtu.probe.push as push_module

    src = Store(_laptop(tmp_path / "a.db", days=1, samples=20))
    sid = src.sessions()[0]["session_id"]
    assert push_module._check_chain(src, sid, 10**9)[1] is not None
    assert push_module._check_chain(src, sid, 5000)[1] is None
    monkeypatch.setattr(push_module, "KEEP_BYTES", 5000)
    dst = sample_store(pg_url)
    first = push(src, dst, batch=50)
    assert (first.added, first.skipped, first.rejected) == (_count(src), 0, 0)
    assert all(r.ok for r in dst.verify()) and _count(dst, "samples") == _count(src, "samples")


def test_a_repeated_push_checks_every_link_but_projects_only_what_is_new(tmp_path, monkeypatch):
    """The records the target holds already (its common prefix with the source) are hashed as links of
    the chain but not parsed and projected again: a repeated push projects nothing, a resumed one
    only the rest; a source whose held prefix was altered is still rejected."""
    import qamtu.probe.push as push_module

    src = Store(_laptop(tmp_path / "a.db", samples=20))
    dst = Store(tmp_path / "office.db")
    projected = []
    real = push_module.projection
    monkeypatch.setattr(push_module, "projection", lambda kind, p, notes=None: projected.append(kind) or
                        real(kind, p, notes))
    with pytest.raises(KeyboardInterrupt):
        push(src, dst, batch=50, progress=lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    first = min(src.sessions(), key=lambda x: x["session_id"])
    assert _count(dst) == 50 and len(projected) == first["records"] < _count(src)   # all of the first session
    projected.clear()
    resumed = push(src, dst, batch=50)
    assert resumed.skipped == 50 and len(projected) == _count(src) - 50
    projected.clear()
    again = push(src, dst, batch=50)
    assert (again.added, again.skipped, again.rejected, projected) == (0, _count(src), 0, [])
    sid = src.sessions()[-1]["session_id"]
    src.execute("UPDATE records SET payload = replace(payload, '\"inspector\":\"synthetic\"', "
                "'\"inspector\":\"forged\"') WHERE session_id = ? AND seq = 3", (sid,))
    bad = next(s for s in push(src, dst, batch=50).sessions if s.session_id == sid)
    assert bad.status == "rejected" and "record 3" in bad.reason and "hash chain" in bad.reason
