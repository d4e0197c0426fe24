"""Migrations registered by the owning packages: frozen texts, and in-place upgrades of every released schema.

Stores of qamtu 0.1.0 (schema versions 1-4, SQLite and PostGIS) are built from the frozen texts
of those versions (tests/legacy_store.py) with data in them, opened with the current code, and
must upgrade with their chains intact, verify, and take a second push that adds nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timezone

import pytest

from legacy_store import build_postgres, build_sqlite, copy_rows

from qamtu.probe.push import push
from qamtu.probe.schema import PROJECTIONS
from qamtu.probe.store import Store, sample_store
from qamtu.probe.synthetic import Campaign, Condition, write_campaign
from qamtu.store import Migration, StoreError, open_store, register_migrations
from qamtu.store.migrations import latest, owner_modules, registered

#: SHA-256 of the UTF-8 text of every released migration, (owner, number) -> (sqlite, postgresql).
#: A released migration is never edited: a change is a new migration with the next number.
RELEASED = {
    ("probe", 1): ("425da1f89dc8f02421df5981ab2f3e262aab7a5907e5725c171897124efb66e6",
                   "cfea6a6724ddceaf0080bd0e4a048364d3ce17276b470d878c24ec3d564ea2f9"),
    ("probe", 2): ("9c4bfcc12d035c50f39a4a66dc3b68003b9fca88c957c5ec6b2b895b4341e379",
                   "c5476cb7a56edf4e5e1b73588250e09e988a0cd6c5b1a0620901c817c9453ac7"),
    ("probe", 3): ("558d03072df8e5374c7c88f3f4476098042e84f6b0b475d9bda9cba7f8e8b9a0",
                   "88ac3292ec89d232d4e35b42d3af1bbeccffa3fafabbf6865d58864f0e7f129a"),
    ("probe", 4): ("90d3f21bdd29343e6bd03a729c4519cddd9613559f12041610c0958c9d744791",
                   "527e042fb8f50d1e831c04a38872cc941b4e554b7cb99432cc28c5c2a0136f37"),
    ("probe", 5): ("b3bb408cdee44036ef450e0407bb8675deef239d61c17609e3333f6f2f8a1732",
                   "5c7812c107d5310d77946fe96fd2b2ced8957382141f7efc97e895e59f98a651"),
    ("reports", 1): ("aed1ea4ef2a6368204df159f05d64b5399eecd40f7952c79aec4a0b82260152a",
                     "07becca701e9a0bc45c21e66d5f86fbdeb145140ad05f1bb2f4ce0eceaf6be40"),
    ("reports", 2): ("b59d1894f83f4fbcbf7c667fcd1a3e909fbb7644a033d737bc01fad7efafcd24",
                     "0c0e4ac98206ec293b959692752481538d08d0c3981ddb959fe7bc66adc103da"),
    ("office", 1): ("24d1596a9f4ffd57648d39aa2f5bc088f413d39f43fef1d98688617528c0825c",
                    "90b96a24bfa2cc1a06391aa4d97dc6b346e377c3358858856a8daec71370ee1f"),
}

PLACES = {"611633100": (42.467228, 68.904243), "611010000": (43.301946, 68.27037)}


def _campaign(st, seed=1, day=1):
    write_campaign(st, Campaign(PLACES, lambda k, o: Condition("LTE", -95, 9, 2), days=1, seed=seed,
                                samples_per_visit=3, speedtests_per_visit=1,
                                start=datetime(2026, 6, day, 6, tzinfo=timezone.utc)))


def test_released_migrations_are_frozen():
    for m in registered():
        key = (m.owner, m.number)
        if key in RELEASED:
            assert (m.sha256("sqlite"), m.sha256("postgresql")) == RELEASED[key], (
                f"released migration {key} was edited: restore its text and add migration {m.number + 1} instead")
    assert set(RELEASED) <= {(m.owner, m.number) for m in registered()}, "a released migration disappeared"


def test_hash_is_of_the_text_as_shipped():
    m = next(m for m in registered() if (m.owner, m.number) == ("probe", 1))
    assert m.sha256("sqlite") == hashlib.sha256(m.sqlite.encode("utf-8")).hexdigest()
    assert "CREATE TABLE samples" in m.sqlite and "BIGINT" not in m.sqlite
    assert "DOUBLE PRECISION" in m.postgresql and "geometry(Point, 4326)" in m.postgresql


def test_owners_come_from_the_data_table():
    mods = owner_modules()
    assert list(mods)[:2] == ["probe", "reports"] and mods["reports"] == "qamtu.reports.schema"
    assert latest()["probe"] >= 2 and latest()["reports"] >= 2
    # probe's tables are created before reports': owners are applied in the table's order
    order = [(m.owner, m.number) for m in registered()]
    assert order.index(("probe", 1)) < order.index(("reports", 1))


def test_a_package_outside_the_repository_registers_through_an_entry_point(monkeypatch):
    from importlib.metadata import EntryPoint

    import qamtu.store.migrations as migrations

    ep = EntryPoint(name="plugin", value="qamtu_plugin.schema", group=migrations.ENTRY_POINT_GROUP)
    monkeypatch.setattr(migrations.metadata, "entry_points", lambda group: [ep] if group == ep.group else [])
    migrations._owner_modules.cache_clear()
    try:
        assert list(owner_modules())[-1] == "plugin" and owner_modules()["plugin"] == "qamtu_plugin.schema"
        assert owner_modules()["probe"] == "qamtu.probe.schema", "the data table wins over an entry point"
    finally:
        migrations._owner_modules.cache_clear()


def test_registration_refuses_gaps_and_a_different_list():
    with pytest.raises(StoreError, match="1..n without gaps"):
        register_migrations("t_gap", [Migration("t_gap", 2, "SELECT 1", "SELECT 1")])
    with pytest.raises(StoreError, match="says owner"):
        register_migrations("t_own", [Migration("other", 1, "SELECT 1", "SELECT 1")])
    register_migrations("probe", [m for m in registered() if m.owner == "probe"])  # the same again: fine
    with pytest.raises(StoreError, match="already registered"):
        register_migrations("probe", [Migration("probe", 1, "SELECT 1", "SELECT 1")])


def test_merge_steps_come_from_the_owners_and_refuse_a_taken_name():
    from qamtu.reports.merge import merge_inspections
    from qamtu.store import merge_steps, register_merge

    assert dict(merge_steps()) == {"inspections": merge_inspections}, "registered by reports.schema on load"
    register_merge("reports", "inspections", merge_inspections)           # the same again: fine
    with pytest.raises(StoreError, match="already registered by 'reports'"):
        register_merge("cases", "inspections", lambda source, target: None)
    with pytest.raises(StoreError, match="plain name"):
        register_merge("cases", "drop table", merge_inspections)
    assert dict(merge_steps()) == {"inspections": merge_inspections}


def test_projection_columns_match_the_frozen_tables(tmp_path):
    """probe.schema's column lists (used to read and verify) mirror migration 1's tables exactly."""
    with Store(tmp_path / "a.db") as st:
        for table, columns in PROJECTIONS.values():
            info = st.rows(f"PRAGMA table_info({table})")
            names = [r[1] for r in info][4:]
            assert names == list(columns), table
            declared = {r[1]: (r[2] + (" NOT NULL" if r[3] else "")) for r in info}
            assert all(declared[c] == t for c, t in columns.items()), table


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_a_released_sqlite_store_upgrades_in_place(tmp_path, version):
    laptop = tmp_path / "new.db"
    with Store(laptop) as st:
        _campaign(st)
    old = tmp_path / f"v{version}.db"
    build_sqlite(old, version)
    with Store(laptop) as st:
        copy_rows(st, old)
    with sample_store(old) as st:  # opened for writing: migrates
        assert st.schema_versions() == latest()
        assert st.scalar("PRAGMA user_version") == 5, "a qamtu that knows only 1-4 must refuse this store"
        assert all(r.ok for r in st.verify()) and len(st.verify()) == 1
        applied = st.rows("SELECT owner, number, applied_utc FROM store_migrations ORDER BY owner, number")
        kept = [(o, n) for o, n, t in applied if t == "2026-01-01T00:00:00.000000Z"]
        assert kept == sorted((m.owner, m.number) for m in registered() if m.legacy_version
                              and m.legacy_version <= version), "released versions are recorded, not run again"
        assert st.query("SELECT COUNT(*) AS n FROM remediation_plans")[0]["n"] == 0  # reports' tables exist
        w = st.begin_session("Ainur")  # and the upgraded store records
        w.close()
        assert all(r.ok for r in st.verify())
    target = tmp_path / "office.db"
    with Store(target) as office:
        first = push(sample_store(old), office)
        assert first.rejected == 0 and first.added > 0
        again = push(sample_store(old), office)
        assert (again.added, again.rejected) == (0, 0) and again.skipped == first.added


def test_a_newer_store_is_refused(tmp_path):
    path = tmp_path / "m.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO store_migrations VALUES ('probe', 99, 'from the future', 'x', 't')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"m\.db: the store has migrations newer .*probe 99.*upgrade qamtu"):
        open_store(path)
    with pytest.raises(StoreError, match="probe 99"):
        open_store(path, read_only=True)


def test_read_only_open_never_migrates_or_switches_the_journal(tmp_path):
    """Issue 18 item 21: read and verify commands open read-only; a copy of an evidence file stays byte for byte."""
    laptop = tmp_path / "new.db"
    with Store(laptop) as st:
        _campaign(st)
    evidence = tmp_path / "evidence.db"
    build_sqlite(evidence, 3)
    with Store(laptop) as st:
        copy_rows(st, evidence)
    conn = sqlite3.connect(evidence)
    conn.execute("PRAGMA journal_mode=DELETE")  # as a copied evidence file may be
    conn.close()
    before = evidence.read_bytes()
    evidence.chmod(0o444)
    with sample_store(evidence, read_only=True) as st:
        assert st.read_only and st.schema_versions() == {}, "no migration on read"
        assert all(r.ok for r in st.verify())
        assert len(st.samples_frame()) > 0
        with pytest.raises(StoreError, match="opened read-only"):
            st.execute("DELETE FROM events")
        with pytest.raises(StoreError,
                           match=r"older qamtu \(missing migrations probe 2(, [a-z_]+ \d+)*\) "
                                 r"and read commands never upgrade"):
            st.query("SELECT * FROM no_such_table_yet")
    assert evidence.read_bytes() == before
    conn = sqlite3.connect(evidence)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    conn.close()


def test_read_only_open_of_a_missing_file_fails_and_creates_nothing(tmp_path):
    with pytest.raises(StoreError, match="no such store"):
        open_store(tmp_path / "nope.db", read_only=True)
    with pytest.raises(StoreError, match="no such store"):
        open_store(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()
    open_store(tmp_path / "yes.db", create=True).close()
    assert (tmp_path / "yes.db").exists()


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_a_released_postgis_database_upgrades_in_place(tmp_path, cluster, version):
    url = cluster.create_db(f"legacy{version}")
    with Store(tmp_path / "a.db") as st:
        _campaign(st)
        build_postgres(url, version)
        copy_rows(st, url)
    with sample_store(url, read_only=True) as ro:  # read-only: nothing happens
        assert ro.schema_versions() == {} and all(r.ok for r in ro.verify())
    with sample_store(url) as office:
        assert office.schema_versions() == latest()
        assert office.scalar("SELECT MAX(version) FROM schema_migrations") == 5
        assert office.scalar("SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f'") == 0, "statement checks"
        assert office.scalar("SELECT COUNT(*) FROM samples WHERE geom IS NOT NULL") > 0
        assert all(r.ok for r in office.verify())
        with Store(tmp_path / "a.db") as st:
            assert push(st, office).skipped == st.scalar("SELECT COUNT(*) FROM records")
        with Store(tmp_path / "b.db") as st2:  # a second laptop's push into the upgraded database
            _campaign(st2, seed=5, day=3)
            report = push(st2, office)
            assert report.rejected == 0 and report.added == st2.scalar("SELECT COUNT(*) FROM records")
        assert all(r.ok for r in office.verify()) and len(office.verify()) == 2
