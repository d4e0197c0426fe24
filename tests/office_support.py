"""Helpers of the office tests: a store with one user per role and a few complaints, and the real app
under uvicorn on a free loopback port (in a thread of the test process)."""

from __future__ import annotations

import re
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from qamtu.office import auth
from qamtu.office.app import create_app, server_config
from qamtu.store import open_store

PASSWORD = "correct horse battery staple"
ROLES = auth.ROLES
#: markup that must come back as text wherever it is shown
PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_store(path: Path, gazetteer) -> dict:
    """A store with users ``<role>1`` for each role and complaints: one in a Turkistan village (with
    markup in its text), and one redirected (ready to be answered). Returns ids."""
    from qamtu.cases import records
    from qamtu.cases.models import Applicant, ComplaintFacts
    from qamtu.cases.registers import appeals

    store = open_store(path, create=True)
    for role in ROLES:
        auth.add_user(store, f"{role}1", role, PASSWORD)
    village = next(s for s in gazetteer if s.located and s.kind == "village" and s.name_ru)
    out = {"store": store, "village": village}
    plan = [("109-1", "kcell", "mobile_internet"), ("109-2", "beeline", "mobile_voice")]
    for n, (number, op, svc) in enumerate(plan):
        facts = ComplaintFacts(channel="109", external_number=number, received="2026-11-02", addressee="inspection",
                               substance=f"Нет интернета {PAYLOAD}", language="ru",
                               address_text=f"{village.name_ru} {PAYLOAD}",
                               kato=village.kato, operators=[op], services=[svc], needs_person=False)
        person = Applicant(name=f"Тест Тестов {PAYLOAD}", iin="", postal_address="ул. Абая 1", phone="+77010000000")
        r = records.register_complaint(store, facts, person, by="desk1", appeals=appeals(), gazetteer=gazetteer)
        out[f"complaint{n}"], out[f"case{n}"] = r["complaint_id"], r["cases"][0]
    records.transition(store, out["case1"], "redirected", by="head1", fields={"to_body": "akimat"})
    return out


@contextmanager
def running(app):
    """Serve ``app`` with uvicorn on 127.0.0.1:<free port>; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(server_config(app, "127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def signed_in(base: str, role: str) -> httpx.Client:
    """An httpx client signed in as ``<role>1``."""
    c = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    page = c.get("/staff/signin")
    r = c.post("/staff/signin", data={"name": f"{role}1", "password": PASSWORD, "csrf_token": csrf_of(page.text),
                                      "next": "/staff/"})
    assert r.status_code == 303, r.text[:300]
    return c


#: sign-in limits for tests that sign in many times from 127.0.0.1 (the rate-limit test uses the real ones)
EASY = {"signin": __import__("qamtu.office.limits", fromlist=["Rate"]).Rate(burst=1000, per_minute=6000)}


def app_for(store, tmp: Path, **kw):
    return create_app(store, work_dir=tmp / "office-files", **kw)
