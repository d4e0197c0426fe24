"""The office on PostgreSQL: its migration, the audit log's append-only guard, sessions and the
served app over a PostgreSQL URL (a throwaway cluster started by the test)."""

from __future__ import annotations

import httpx
import pytest

from office_support import EASY, PASSWORD, csrf_of, running
from qamtu.office import auth
from qamtu.office.app import create_app
from qamtu.store import StoreError, open_store


def test_office_tables_guard_and_app_on_postgresql(cluster, tmp_path):
    url = cluster.create_db("office1")
    with open_store(url) as store:
        assert store.engine == "postgresql"
        auth.add_user(store, "head1", "head", PASSWORD)
        with pytest.raises(StoreError):
            store.execute("UPDATE office_audit SET actor = 'someone else'")
        with pytest.raises(StoreError):
            store.execute("DELETE FROM office_audit")
        assert [r["action"] for r in auth.audit_log(store)] == ["user_added"]
    app = create_app(url, work_dir=tmp_path / "files", rates=EASY)
    with running(app) as base:
        c = httpx.Client(base_url=base)
        r = c.post("/staff/signin", data={"name": "head1", "password": PASSWORD,
                                          "csrf_token": csrf_of(c.get("/staff/signin").text)})
        assert r.status_code == 303
        assert c.get("/staff/").status_code == 200 and c.get("/staff/cases").status_code == 200
        assert c.get("/staff/whoami.json").json() == {"name": "head1", "role": "head"}
    app.state.office.store.close()
