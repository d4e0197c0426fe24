"""The sample store: durable commits, hash chains that catch every kind of tampering, migrations, frames."""

from __future__ import annotations

import sqlite3

from datetime import datetime, timedelta, timezone

import pytest

from qamtu.probe.schema import SAMPLE_COLUMNS
from qamtu.probe.store import Store, StoreError
from qamtu.store.migrations import latest
from qamtu.probe.synthetic import Campaign, Condition, write_campaign

T0 = datetime(2026, 6, 1, 6, 0, tzinfo=timezone.utc)
PLACES = {"611633100": (42.467228, 68.904243), "614657100": (42.488, 69.41)}


def _condition(kato: str, op: str) -> Condition:
    if kato == "611633100" and op == "401-77":
        return Condition("none")
    return Condition("LTE", rsrp_dbm=-90, download_mbps=12, upload_mbps=3)


@pytest.fixture
def store(tmp_path):
    st = Store(tmp_path / "q.db")
    write_campaign(st, Campaign(PLACES, _condition, start=T0, days=2, samples_per_visit=5, speedtests_per_visit=1,
                                inspection_id="INSP-7"))
    yield st
    st.close()


def _sid(store, i=0):
    return store.sessions()[i]["session_id"]


def test_counts_and_frames(store):
    sessions = store.sessions()
    assert len(sessions) == 2 and all(s["status"] == "closed" for s in sessions)
    assert sum(s["samples"] for s in sessions) == 2 * 2 * 3 * 5
    assert sum(s["no_service"] for s in sessions) == 2 * 5
    df = store.samples_frame()
    assert list(df.columns[4:]) == list(SAMPLE_COLUMNS)
    assert str(df["time_utc"].dtype).startswith("datetime64") and str(df["time_utc"].dt.tz) == "UTC"
    assert len(store.samples_frame(operator="Tele2")) == len(store.samples_frame(operator="401-77")) == 20
    assert set(store.samples_frame(operator="Tele2", kato="611633100")["status"]) == {"no_service"}
    assert len(store.samples_frame(start=T0 + timedelta(days=1))) == 30
    assert len(store.samples_frame(end=T0 + timedelta(days=1))) == 30
    assert len(store.samples_frame(session=_sid(store)[:24])) == 30
    assert len(store.samples_frame(inspection="INSP-7")) == 60 and len(store.samples_frame(inspection="other")) == 0
    st = store.speedtests_frame(operator="Kcell")
    assert len(st) == 4 and st["valid"].all() and st["download_mbps"].between(5, 30).all()
    failed = store.speedtests_frame(operator="Tele2", kato="611633100")
    assert not failed["valid"].any() and failed["download_mbps"].isna().all()
    gdf = store.samples_geoframe(kato="614657100")
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 30 and not gdf.geometry.is_empty.any()
    with pytest.raises(StoreError, match="operator 'Vodafone'"):
        store.samples_frame(operator="Vodafone")


def test_chain_is_intact_after_writing(store):
    reports = store.verify()
    assert len(reports) == 2 and all(r.ok for r in reports)
    assert all(r.records == 2 + 3 * 2 * 6 for r in reports)  # start + end + (5 samples + 1 test) x 3 ops x 2 places


@pytest.mark.parametrize("tamper, reason", [
    ("UPDATE records SET payload = replace(payload, '\"rsrp_dbm\":', '\"rsrp_dbm\":1') WHERE seq = 3", "altered"),
    ("UPDATE samples SET rsrp_dbm = -60 WHERE seq = 4", "samples row differs .*rsrp_dbm"),
    ("UPDATE speedtests SET download_mbps = 99 WHERE seq = 7", "speedtests row differs .*download_mbps"),
    ("DELETE FROM samples WHERE seq = 5; DELETE FROM records WHERE seq = 5", "records missing"),
    ("UPDATE records SET time_utc = '2026-06-01T06:00:00.000000Z' WHERE seq = 6", "altered"),
    ("UPDATE records SET prev_hash = hash WHERE seq = 8", "prev_hash"),
])
def test_every_kind_of_tampering_is_found_at_the_right_record(store, tamper, reason):
    sid = _sid(store)
    for stmt in tamper.split(";"):
        store.execute(stmt + " AND session_id = ?", (sid,))
    report = store.verify(sid)[0]
    assert not report.ok
    assert report.reason is not None and __import__("re").search(reason, report.reason), report.reason
    first_seq = int(__import__("re").search(r"seq = (\d+)", tamper).group(1))
    # a deleted record shows at the next one, where the sequence jumps
    assert report.broken_at == first_seq + (1 if tamper.startswith("DELETE") else 0)
    assert store.verify(_sid(store, 1))[0].ok, "the other session is untouched"


def test_projection_row_without_record_is_found(store):
    sid = _sid(store)
    row = store.rows("SELECT * FROM samples WHERE session_id = ? AND seq = 3", (sid,))[0]
    forger = sqlite3.connect(store.path)  # as in the sqlite3 shell a forger would use
    forger.execute("PRAGMA foreign_keys = OFF")
    forger.execute(f"INSERT INTO samples VALUES ({', '.join('?' * len(row))})", ("forged", *row[1:]))
    forger.commit()
    forger.close()
    report = store.verify(sid)[0]
    assert not report.ok and "no chained record" in report.reason


def test_projections_give_the_table_columns_in_order(tmp_path):
    """Merges write ``projection(...).values()`` positionally: the keys must be the table's columns, in order,
    and flags must already be 0/1 (the PostgreSQL COPY is typed)."""
    import orjson

    from qamtu.probe.schema import PROJECTIONS
    from qamtu.probe.store import projection
    from qamtu.probe.synthetic import Campaign, Condition, write_campaign

    with Store(tmp_path / "s.db") as st:
        write_campaign(st, Campaign({"611010000": (43.301946, 68.27037)}, lambda k, o: Condition("LTE", -95, 9, 2),
                                    days=1, samples_per_visit=2, speedtests_per_visit=1, operators=("401-02",)))
        seen = set()
        for kind, payload in st.rows("SELECT kind, payload FROM records"):
            values = projection(kind, orjson.loads(payload))
            assert list(values) == list(PROJECTIONS[kind][1]), kind
            assert not any(isinstance(v, bool) for v in values.values()), kind
            seen.add(kind)
    assert {"sample", "speedtest"} <= seen


def test_migrations_run_once_and_refuse_newer_files(tmp_path):
    path = tmp_path / "m.db"
    Store(path).close()
    st = Store(path)
    assert st.schema_versions() == latest()
    assert latest()["probe"] == 5 and latest()["reports"] == 2  # probe 3: daily aggregates, 4: fillfactor, 5: monthly
    assert st.scalar("SELECT COUNT(*) FROM store_migrations") == sum(latest().values())
    st.execute("PRAGMA user_version = 6")
    st.close()
    with pytest.raises(StoreError, match=r"m\.db: schema version .* newer .* upgrade qamtu"):
        Store(path)


def test_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("these are my notes, not a database\n" * 50)
    with pytest.raises(StoreError, match="notes.db: .*not a Qamtu/SQLite database"):
        Store(bad)


def test_session_needs_an_inspector_and_naive_times_are_refused(tmp_path):
    st = Store(tmp_path / "x.db")
    with pytest.raises(StoreError, match="inspector"):
        st.begin_session("  ")
    w = st.begin_session("Ainur")
    from qamtu.probe.samples import Event

    with pytest.raises(ValueError, match="no time zone"):
        w.event(Event(type="note"), datetime(2026, 6, 1, 6, 0))
    w.event(Event(type="note", message="Қазығұрт ауданы"))
    w.close()
    with pytest.raises(StoreError, match="is closed"):
        w.event(Event(type="late"))
    assert st.verify()[0].ok and st.verify()[0].records == 3


def test_failed_batch_keeps_nothing(tmp_path):
    st = Store(tmp_path / "b.db")
    with pytest.raises(RuntimeError):
        with st.batch():
            w = st.begin_session("Ainur")
            w.event(__import__("qamtu.probe.samples", fromlist=["Event"]).Event(type="x"))
            raise RuntimeError("power cut")
    assert st.sessions() == [] and st.scalar("SELECT COUNT(*) FROM records") == 0


def test_uuid7_ids_sort_by_time_and_do_not_collide():
    import uuid

    from qamtu.probe.ids import uuid7

    ids = [uuid7() for _ in range(20000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    u = uuid.UUID(ids[0])
    assert u.version == 7 and u.variant == uuid.RFC_4122
    ms = int(ids[0].replace("-", "")[:12], 16)
    assert abs(ms / 1000 - datetime.now(timezone.utc).timestamp()) < 60
