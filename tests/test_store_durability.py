"""A full disk or a read-only file stops recording with a clear message and never corrupts the store.

These tests mount a tiny tmpfs (root only); they skip, saying why, where mounting is not allowed.
"""

from __future__ import annotations

import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from qamtu.probe.samples import Event
from qamtu.probe.store import Store, StoreError


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _integrity(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def test_full_disk_stops_with_clear_message_and_keeps_every_committed_record(small_disk):
    path = small_disk / "q.db"
    st = Store(path)
    w = st.begin_session("Ainur")
    committed = 1
    with pytest.raises(StoreError) as err:
        for i in range(100000):
            w.event(Event(type="note", message="Түркістан облысы " + "x" * 400, details={"i": i}))
            committed += 1
    assert "disk is full" in str(err.value) and str(path) in str(err.value)
    st.close()
    # free space elsewhere on the disk, as an inspector would, then read the file back
    assert _integrity(path) == "ok"
    with Store(path) as again:
        report = again.verify()[0]
        assert report.ok and report.records == committed


def test_read_only_file_stops_with_clear_message(small_disk):
    path = small_disk / "q.db"
    with Store(path) as st:
        w = st.begin_session("Ainur")
        w.event(Event(type="note"))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(StoreError, match=r"q\.db: .*read-only"):
        st = Store(path)
        st.begin_session("Ainur")
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert _integrity(path) == "ok"
