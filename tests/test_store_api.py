"""The public store API (qamtu.store): placeholders, transactions, range checks, paths, and the boundary.

Covers issue 13 item 1 and issue 18 items 4 (the store never gets stuck), 11 (a malformed payload
rejects its session only), 14 (URI-special characters in paths) and the operator-code half of item 1.
"""

from __future__ import annotations

import ast
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from conftest import REPO, run_qamtu

from qamtu.probe.push import push
from qamtu.probe.samples import Event
from qamtu.probe.store import Store, sample_store
from qamtu.probe.synthetic import Campaign, Condition, write_campaign
from qamtu.store import StoreError, ValueRejected, open_store
from qamtu.store.chain import record_hash
from qamtu.store.sql import count_placeholders, split_statements, to_pyformat

PLACES = {"611633100": (42.467228, 68.904243), "611010000": (43.301946, 68.27037)}
T0 = datetime(2026, 6, 1, 6, tzinfo=timezone.utc)


def _laptop(path, days=1, seed=1):
    with Store(path) as st:
        write_campaign(st, Campaign(PLACES, lambda k, o: Condition("LTE", -95, 9, 2), days=days, seed=seed,
                                    samples_per_visit=3, speedtests_per_visit=1, start=T0))
    return path


# ---------------------------------------------------------------------------------------------- SQL text
def test_placeholders_are_translated_outside_literals_and_comments():
    sql = "SELECT '?', 'it''s ?%', \"odd?col\", x % 2, $f$ ? $f$ FROM t WHERE a = ? AND b LIKE ? -- why?\n/* ? */"
    assert to_pyformat(sql) == ("SELECT '?', 'it''s ?%%', \"odd?col\", x %% 2, $f$ ? $f$ FROM t WHERE a = %s "
                                "AND b LIKE %s -- why?\n/* ? */")
    assert count_placeholders(sql) == 2


def test_split_statements_keeps_function_bodies_whole():
    from qamtu.probe.schema import MIGRATIONS

    pg = MIGRATIONS[1].statements("postgresql")
    assert len(pg) == 22 and pg[0].rstrip().endswith("END $f$") and "RAISE foreign_key_violation" in pg[0]
    assert MIGRATIONS[1].statements("sqlite") == []


def test_split_drops_comment_only_pieces():
    assert split_statements("-- header only\n;\n  \n") == []
    assert split_statements("SELECT 1; SELECT ';' ; -- end") == ["SELECT 1", "SELECT ';'"]


# ---------------------------------------------------------------------------------------------- transactions
def test_transaction_rolls_back_on_any_exception_and_the_store_goes_on(tmp_path):
    with open_store(tmp_path / "a.db", create=True) as st:
        st.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        with pytest.raises(RuntimeError):
            with st.transaction("test") as tx:
                tx.execute("INSERT INTO t VALUES (?, ?)", (1, "x"))
                raise RuntimeError("power cut")
        assert st.rows("SELECT * FROM t") == []
        with pytest.raises(ValueRejected, match=r"a\.db: test: parameter 1 \(18446744073709551615\) is outside"):
            with st.transaction("test") as tx:
                tx.execute("INSERT INTO t VALUES (?, ?)", (2, "kept?"))
                tx.execute("INSERT INTO t VALUES (?, ?)", (0xFFFFFFFFFFFFFFFF, "y"))
        assert st.rows("SELECT * FROM t") == [], "nothing of the failed transaction stays"
        with pytest.raises(ValueRejected):
            st.execute("INSERT INTO t VALUES (?, ?)", (-(2**63) - 1, "z"))
        with st.transaction() as tx:  # not stuck: the next transaction commits
            tx.executemany("INSERT INTO t VALUES (?, ?)", [(2**63 - 1, "max"), (-(2**63), "min")])
        assert st.query("SELECT a, b FROM t ORDER BY a") == [{"a": -(2**63), "b": "min"}, {"a": 2**63 - 1, "b": "max"}]
        assert list(st.frame("SELECT b FROM t ORDER BY a")["b"]) == ["min", "max"]
        assert [len(c) for c in st.iter_rows("SELECT * FROM t", (), size=1)] == [1, 1]


def test_a_nested_failure_keeps_nothing_even_if_caught(tmp_path):
    with open_store(tmp_path / "a.db", create=True) as st:
        st.execute("CREATE TABLE t (a INTEGER PRIMARY KEY)")
        with pytest.raises(StoreError, match="nothing of it was kept"):
            with st.transaction("outer") as tx:
                tx.execute("INSERT INTO t VALUES (1)")
                try:
                    st.execute("INSERT INTO t VALUES (1)")  # joins the outer one; fails on the key
                except StoreError:
                    pass
        assert st.rows("SELECT * FROM t") == []


def test_huge_identifiers_do_not_stop_the_session(tmp_path):
    """Issue 18 item 4: a 16-hex-digit cell id and a 20-digit EARFCN (as a broken or hostile modem may
    report) stay in the chained payload, are projected as null with a warning, and recording goes on."""
    src = _laptop(tmp_path / "a.db")
    with Store(src) as st:
        sample = orjson.loads(st.rows("SELECT payload FROM records WHERE kind = 'sample' LIMIT 1")[0][0])
    cell = dict(sample["reading"]["cells"][0], cell_id=0xFFFFFFFFFFFFFFFF, channel=10**20 - 1)
    sample["reading"]["cells"][0] = cell
    hostile = _Dumped(sample)  # as the device parser may have let it through before its range checks
    with Store(tmp_path / "b.db") as st:
        w = st.begin_session("Ainur")
        w.sample(hostile, T0)
        w.sample(hostile, T0 + timedelta(seconds=1))
        w.event(Event(type="still_recording"), T0 + timedelta(seconds=2))
        w.close()
        rows = st.query("SELECT cell_id, channel FROM samples")
        assert rows == [{"cell_id": None, "channel": None}] * 2
        payload = st.rows("SELECT payload FROM records WHERE kind = 'sample' LIMIT 1")[0][0]
        assert '"cell_id":18446744073709551615' in payload and '"channel":99999999999999999999' in payload
        warnings = st.rows("SELECT message FROM events WHERE type = 'warning'")
        assert len(warnings) == 2 and "cell_id" in warnings[0][0] + warnings[1][0], "each note once per session"
        s = st.sessions()[0]
        assert (s["status"], s["samples"]) == ("closed", 2)
        assert all(r.ok for r in st.verify()), st.verify()


class _Dumped:
    """A payload object whose dump is the given dict (what the writer chains), bypassing model checks."""

    def __init__(self, d):
        self.d = d

    def model_dump(self, mode="json"):
        return self.d


def test_operator_codes_must_be_digits_when_recording_and_pushing(tmp_path):
    """Issue 18 item 1 (store side): a rogue base station's operator 'code' stays raw in the payload;
    the projection (what maps and reports read) holds digits or null, with a note."""
    src = _laptop(tmp_path / "a.db")
    with Store(src) as st:
        sample = orjson.loads(st.rows("SELECT payload FROM records WHERE kind = 'sample' LIMIT 1")[0][0])
    sample["reading"]["operator_mcc"] = "<img src=x onerror=alert(1)>"
    sample["reading"]["operator_mnc"] = "02</script>"
    with Store(tmp_path / "rogue.db") as st:
        w = st.begin_session("Ainur")
        w.sample(_Dumped(sample), T0)
        w.close()
        assert st.rows("SELECT operator_mcc, operator_mnc FROM samples") == [(None, None)]
        notes = [r[0] for r in st.rows("SELECT message FROM events WHERE type = 'warning' ORDER BY seq")]
        assert any("operator_mcc" in n and "not a 3-digit code" in n for n in notes), notes
        assert all(r.ok for r in st.verify())
        # an older laptop projected the raw text: push derives the projection again from the payload
        st.execute("UPDATE samples SET operator_mcc = '<img src=x onerror=alert(1)>'")
        with Store(tmp_path / "office.db") as office:
            report = push(st, office)
            assert report.rejected == 0 and report.sessions[0].noted == 2
            assert "not a 3-digit code" in report.sessions[0].notes[0]["note"]
            assert office.query("SELECT operator_mcc FROM samples") == [{"operator_mcc": None}]


# ---------------------------------------------------------------------------------------------- push
def _rechain(path, sid, seq, payload):
    """Put ``payload`` in record ``seq`` of the session and chain the rest again (the chain stays whole)."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT seq, record_id, kind, time_utc, payload FROM records WHERE session_id = ? "
                        "ORDER BY seq", (sid,)).fetchall()
    prev = conn.execute("SELECT hash FROM records WHERE session_id = ? AND seq = ?", (sid, seq - 1)).fetchone()[0]
    for s, rid, kind, t, p in rows[seq - 1:]:
        p = payload if s == seq else p
        h = record_hash(sid, s, rid, kind, t, prev, p)
        conn.execute("UPDATE records SET payload = ?, prev_hash = ?, hash = ? WHERE record_id = ?", (p, prev, h, rid))
        prev = h
    conn.commit()
    conn.close()


def test_a_malformed_payload_rejects_only_its_session(tmp_path):
    """Issue 18 item 11: not JSON, {} and a list, each in a chain that is otherwise whole."""
    src = _laptop(tmp_path / "a.db", days=4)
    with Store(src) as st:
        sids = sorted(s["session_id"] for s in st.sessions())
    for sid, bad in zip(sids[:3], ["not json {", "{}", "[1, 2]"]):
        _rechain(src, sid, 3, bad)
    with Store(src) as st:
        checks = {r.session_id: r for r in st.verify()}
        assert [checks[s].ok for s in sids] == [False, False, False, True]
        assert all("payload is not a valid" in checks[s].reason and checks[s].broken_at == 3 for s in sids[:3])
        with Store(tmp_path / "office.db") as office:
            report = push(st, office)
            by = {s.session_id: s for s in report.sessions}
            for sid in sids[:3]:
                assert by[sid].status == "rejected" and "record 3 (" in by[sid].reason, by[sid].reason
            assert by[sids[3]].status == "accepted" and by[sids[3]].added == by[sids[3]].records
            assert [s["session_id"] for s in office.sessions()] == [sids[3]], "no empty open session is left"
    result = run_qamtu("sessions", "check", "--db", str(src), "--json", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert sum(not r["ok"] for r in json.loads(result.stdout)) == 3


def test_uri_special_characters_in_the_source_path(tmp_path, monkeypatch):
    """Issue 18 item 14: a path with '#' and '?' is opened by URI for the read-only reader thread."""
    import qamtu.probe.push as push_module

    folder = tmp_path / "field #1?v=2"
    folder.mkdir()
    src = _laptop(folder / "day#1?.db", days=2)
    monkeypatch.setattr(push_module, "KEEP_BYTES", 0)  # every session takes the reader-thread path
    with sample_store(src, read_only=True) as st, Store(tmp_path / "office.db") as office:
        report = push(st, office)
        assert report.rejected == 0 and report.added == st.scalar("SELECT COUNT(*) FROM records")
        assert all(r.ok for r in office.verify())
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("day#1?.db")) == []
    assert not list(tmp_path.glob("day*")), "no stray file beside the folder"


# ---------------------------------------------------------------------------------------------- PostgreSQL


def test_postgres_placeholders_literals_and_range(cluster):
    url = cluster.create_db("api")
    with open_store(url) as st:
        assert st.engine == "postgresql" and st.label == url
        assert st.rows("SELECT '?' AS q, ? AS p, 7 % 4 AS m, 'a%b' AS pct", (5,)) == [("?", 5, 3, "a%b")]
        st.execute("CREATE TABLE t (a BIGINT, b TEXT)")
        with pytest.raises(ValueRejected, match="outside the 64-bit"):
            with st.transaction("test") as tx:
                tx.execute("INSERT INTO t VALUES (?, ?)", (1, "x"))
                tx.execute("INSERT INTO t VALUES (?, ?)", (10**20, "y"))
        with pytest.raises(KeyError):
            with st.transaction() as tx:
                tx.execute("INSERT INTO t VALUES (?, ?)", (1, "x"))
                raise KeyError("anything")
        st.execute("INSERT INTO t VALUES (?, ?)", (2, "it's ?"))
        assert st.query("SELECT a, b FROM t") == [{"a": 2, "b": "it's ?"}]
        with st.transaction() as tx:
            tx.copy("t", ("a", "b"), [(3, "c"), (4, "d")], st.column_types("t", ("a", "b")))
        assert st.column_types("t", ("a", "b")) == ["bigint", "text"]
        assert st.scalar("SELECT COUNT(*) FROM t") == 3
    with open_store(url, read_only=True) as ro:
        with pytest.raises(StoreError, match="opened read-only"):
            ro.execute("INSERT INTO t VALUES (9, 'no')")


# ---------------------------------------------------------------------------------------------- the boundary
def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _store_private_names() -> set[str]:
    """Underscore members defined by the store's classes, and the connection."""
    names = {"conn", "_conn"}
    for path in (REPO / "store").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for item in ast.walk(node):
                    if isinstance(item, ast.FunctionDef) and _private(item.name):
                        names.add(item.name)
                    if isinstance(item, ast.Attribute) and _private(item.attr) \
                            and isinstance(item.value, ast.Name) and item.value.id == "self":
                        names.add(item.attr)
    return names


def _outside_modules():
    for pkg in ("device", "probe", "mapping", "reports", "bench"):
        yield from sorted((REPO / pkg).rglob("*.py"))
    yield REPO / "cli.py"


def test_nothing_outside_the_store_touches_its_private_members_or_connection():
    private = _store_private_names()
    assert {"_run", "_exec", "_conn", "_lock", "conn"} <= private
    bad = []
    for path in _outside_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in private:
                # a class's own members (self._lock of a class in that module) are its business
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    continue
                bad.append(f"{path.relative_to(REPO)}:{node.lineno}: .{node.attr}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("qamtu.store", "store")) \
                    or isinstance(node, ast.ImportFrom) and node.level and (node.module or "").startswith("store"):
                bad += [f"{path.relative_to(REPO)}:{node.lineno}: imports {a.name}" for a in node.names
                        if a.name.startswith("_")]
    assert not bad, "use the public store API (qamtu.store):\n" + "\n".join(bad)


def test_the_boundary_scan_sees_a_violation(tmp_path):
    private = _store_private_names()
    tree = ast.parse("def f(store):\n    store._conn.execute('x')\n    return store.conn\n")
    hits = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in private]
    assert sorted(hits) == ["_conn", "conn"]
