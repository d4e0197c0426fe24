"""Security of the office application, over a real uvicorn server on loopback: every staff route with
every role and signed out, CSRF, rate limits, size limits, escaping of hostile text, error pages
without tracebacks, cookie flags, security headers, the append-only audit log, hashed secrets."""

from __future__ import annotations

import re

import httpx
import pytest

from conftest import run_qamtu, settlement_feature
from office_support import EASY, PASSWORD, PAYLOAD, ROLES, app_for, csrf_of, make_store, running, signed_in
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.office import auth, web
from qamtu.office.limits import RATES
from qamtu.store import StoreError

RAW = "<script>window.__xss"


@pytest.fixture(scope="module")
def hostile_gazetteer(tmp_path_factory):
    import json

    path = tmp_path_factory.mktemp("gaz") / "settlements.geojson"
    feats = [settlement_feature("611010001", 43.3, 68.2, name=PAYLOAD),
             settlement_feature("611010002", 43.4, 68.3, name="Ақтөбе")]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    return Gazetteer.load(path)


@pytest.fixture(scope="module")
def office(tmp_path_factory, hostile_gazetteer):
    tmp = tmp_path_factory.mktemp("office")
    ids = make_store(tmp / "office.db", hostile_gazetteer)
    app = app_for(ids["store"], tmp, gazetteer=hostile_gazetteer, max_upload=64 * 1024, rates=EASY)
    with running(app) as base:
        yield {**ids, "base": base, "tmp": tmp}
    ids["store"].close()


def _path(page: web.Page, ids: dict) -> str:
    values = {**page.example}
    values.update({k: ids[v] for k, v in (("case_id", "case0"), ("complaint_id", "complaint0")) if k in values})
    path = page.path
    for k, v in values.items():
        path = path.replace("{" + k + "}", v)
    assert "{" not in path, f"route {page.name}: give example= values for its path parameters"
    return path


def test_every_staff_route_every_role_and_signed_out(office):
    """200/303/400 for an allowed role, 403 for the others, sign-in redirect (GET) or 401 signed out."""
    staff = [p for p in web.ROUTES if p.roles is not None]
    assert len(staff) >= 20
    anon = httpx.Client(base_url=office["base"], follow_redirects=False, timeout=30)
    for page in staff:
        for method in page.methods:
            r = anon.request(method, _path(page, office), data={"csrf_token": "x"} if method == "POST" else None)
            if method == "GET" and not page.path.endswith(".json"):
                assert r.status_code == 303, (page.name, r.status_code)
                assert r.headers["location"].startswith("/staff/signin"), page.name
            else:
                assert r.status_code == 401, (page.name, method, r.status_code)
    for role in ROLES:
        client = signed_in(office["base"], role)
        token = csrf_of(client.get("/staff/").text)
        for page in sorted(staff, key=lambda p: p.name == "signout"):   # sign out last
            for method in page.methods:
                if page.name == "users" and method == "POST":
                    data = {"csrf_token": token, "action": "none"}
                else:
                    data = {"csrf_token": token} if method == "POST" else None
                r = client.request(method, _path(page, office), data=data)
                if role in page.roles:
                    assert r.status_code in (200, 303, 400, 404), (role, page.name, method, r.status_code, r.text[:300])
                    assert "Traceback" not in r.text
                else:
                    assert r.status_code == 403, (role, page.name, method, r.status_code)


def test_csrf_refused_without_or_with_a_wrong_token(office):
    client = signed_in(office["base"], "head")
    case = office["case0"]
    for data in ({"to": "accepted"}, {"to": "accepted", "csrf_token": "wrong-token-wrong-token-wrong"}):
        r = client.post(f"/staff/cases/{case}/move", data=data)
        assert r.status_code == 403
    assert "registered" in client.get(f"/staff/cases/{case}").text
    # the sign-in form too: a POST without the pre-session token is refused
    anon = httpx.Client(base_url=office["base"])
    r = anon.post("/staff/signin", data={"name": "head1", "password": PASSWORD})
    assert r.status_code == 403 and "qamtu_session" not in r.headers.get("set-cookie", "")


def test_signin_rate_limited(tmp_path, hostile_gazetteer):
    ids = make_store(tmp_path / "o.db", hostile_gazetteer)
    with running(app_for(ids["store"], tmp_path, gazetteer=hostile_gazetteer)) as base:
        c = httpx.Client(base_url=base)
        token = csrf_of(c.get("/staff/signin").text)
        wrong = {"name": "head1", "password": "wrong password!", "csrf_token": token}
        codes = [c.post("/staff/signin", data=wrong).status_code
                 for _ in range(RATES["signin"].burst + 1)]
        assert codes[:-1] == [401] * RATES["signin"].burst and codes[-1] == 429, codes
        r = c.post("/staff/signin", data={"name": "head1", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_oversize_form_and_upload_refused(office):
    client = signed_in(office["base"], "head")
    token = csrf_of(client.get("/staff/intake").text)
    r = client.post("/staff/intake", data={"csrf_token": token, "substance": "x" * 100_000})
    assert r.status_code == 413
    r = client.post("/staff/upload", data={"csrf_token": token},
                    files={"store": ("laptop.db", b"SQLite format 3\x00" + b"\0" * 100_000)})
    assert r.status_code == 413          # this app allows 64 KiB uploads


def test_hostile_text_rendered_as_text(office):
    client = signed_in(office["base"], "head")
    pages = [f"/staff/cases/{office['case0']}", f"/staff/complaints/{office['complaint0']}", "/staff/cases",
             "/staff/cases?q=" + PAYLOAD, "/staff/"]
    for path in pages:
        r = client.get(path)
        assert r.status_code == 200, path
        assert RAW not in r.text and "<img src=x" not in r.text, path
    found = client.get("/staff/cases", params={"q": office["complaint0"].lower()}).text   # search by talon
    assert office["case0"] in found and office["case1"] not in found
    case_page = client.get(f"/staff/cases/{office['case0']}").text
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in case_page            # the settlement name, escaped
    complaint = client.get(f"/staff/complaints/{office['complaint0']}").text
    assert complaint.count("&lt;script&gt;") >= 2                                  # complaint text and address
    # an upload's file name is never used nor shown
    token = csrf_of(complaint)
    r = client.post("/staff/upload", data={"csrf_token": token}, files={"store": (PAYLOAD + ".db", b"not a store")})
    assert r.status_code == 400 and RAW not in r.text
    # JSON answers carry names as JSON strings
    js = client.get("/staff/api/settlements.json", params={"q": "script"}).json()
    assert any(x["name_ru"] == PAYLOAD for x in js["results"])


def test_no_traceback_in_a_forced_error(office, monkeypatch):
    from qamtu.office import staff

    def boom(ctx):
        raise RuntimeError("secret-detail /home/x/staff.py line 1")

    monkeypatch.setattr(staff, "_recent_uploads", boom)
    client = signed_in(office["base"], "desk")
    r = client.get("/staff/")
    assert r.status_code == 500
    for leak in ("Traceback", "secret-detail", "staff.py", "RuntimeError"):
        assert leak not in r.text
    assert "content-security-policy" in r.headers


def test_cookie_flags_and_proxy_trust(tmp_path, hostile_gazetteer):
    ids = make_store(tmp_path / "o.db", hostile_gazetteer)

    def signin(base: str, headers: dict) -> str:
        c = httpx.Client(base_url=base, headers=headers)
        page = c.get("/staff/signin")
        pre = next(v for v in page.headers.get_list("set-cookie") if v.startswith("qamtu_csrf="))
        # a browser behind the TLS proxy sends the (Secure) cookie back; httpx over plain http would not
        r = c.post("/staff/signin", data={"name": "desk1", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
                   headers={"Cookie": pre.split(";")[0]})
        assert r.status_code == 303
        return next(v for v in r.headers.get_list("set-cookie") if v.startswith("qamtu_session="))

    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with running(app_for(ids["store"], tmp_path)) as base:
        plain = signin(base, https)                    # not configured: the header is not trusted
    assert "HttpOnly" in plain and "SameSite=lax" in plain.replace("Lax", "lax") and "Secure" not in plain
    with running(app_for(ids["store"], tmp_path, behind_proxy=True)) as base:
        proxied = signin(base, https)
        r = httpx.get(base + "/staff/signin", headers=https)
        assert "strict-transport-security" in r.headers
    assert "Secure" in proxied and "HttpOnly" in proxied


def test_security_headers_and_no_inline_script(office):
    client = signed_in(office["base"], "admin")
    for path in ("/staff/", "/staff/users", "/staff/maps/coverage", "/staff/signin"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), path
        assert not re.search(r"\sstyle=", r.text) and not re.search(r"\son[a-z]+=", r.text), path


def test_audit_log_is_append_only_and_secrets_hashed(office):
    store = office["store"]
    client = signed_in(office["base"], "desk")
    client.get("/staff/")
    rows = auth.audit_log(store)
    assert any(r["action"] == "signed_in" and r["actor"] == "desk1" for r in rows)
    assert not any(PASSWORD in r["detail"] for r in rows)
    with pytest.raises(StoreError):
        store.execute("UPDATE office_audit SET actor = 'x'")
    with pytest.raises(StoreError):
        store.execute("DELETE FROM office_audit")
    hashes = [r["password_hash"] for r in store.query("SELECT password_hash FROM office_users")]
    assert all(h.startswith("$argon2id$") for h in hashes)
    key = auth.add_key(store, "akimat-109")
    assert key.startswith("q311_") and auth.key_name(store, key) == "akimat-109"
    assert auth.key_name(store, key + "x") is None
    assert key not in str(store.query("SELECT * FROM office_api_keys"))
    tokens = [r["token_sha256"] for r in store.query("SELECT token_sha256 FROM office_sessions")]
    assert tokens and all(len(t) == 64 for t in tokens)
    assert client.cookies.get("qamtu_session") not in tokens


def test_cli_users_and_keys(tmp_path):
    from typer.testing import CliRunner

    from qamtu.cli import app

    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    r = runner.invoke(app, ["office", "users", "add", "Aigerim", "--role", "desk", "--db", db],
                      input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    assert PASSWORD not in r.output
    r = run_qamtu("office", "users", "add", "x1", "--role", "boss", "--db", db, check=False)
    # refused while the command line is parsed, listing the roles, before a password is asked
    said = " ".join(r.stderr.replace("│", " ").split())
    assert r.returncode == 2 and "'boss' is not one of: inspector, desk, head, admin" in said
    assert "password for" not in r.stdout + r.stderr
    r = runner.invoke(app, ["office", "keys", "add", "akimat", "--db", db])
    assert r.exit_code == 0
    key = r.output.strip().splitlines()[-1]
    from qamtu.store import open_store

    with open_store(db) as store:
        assert auth.key_name(store, key) == "akimat"
        assert auth.authenticate(store, "aigerim", PASSWORD)["role"] == "desk"


def test_serve_command_runs_the_app(tmp_path):
    """`qamtu office serve` as a user starts it: a real process on a loopback port."""
    import os
    import signal
    import subprocess
    import time

    from conftest import QAMTU
    from office_support import free_port

    port = free_port()
    db = tmp_path / "served.db"
    proc = subprocess.Popen([str(QAMTU), "office", "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/staff/", follow_redirects=False, timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "office serve did not start"
                time.sleep(0.3)
        assert r.status_code == 303 and r.headers["location"].startswith("/staff/signin")
        assert "server" not in r.headers
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out = proc.communicate(timeout=20)[0].decode("utf-8", "replace")
    assert db.exists() and "Traceback" not in out
    assert "GET dashboard -> 303" in out and "/staff/" not in out.split("Ctrl-C stops", 1)[-1]


def test_staff_user_refused_without_a_signed_in_user():
    """``ctx.staff_user`` and ``ctx.audit`` refuse a request with no signed-in user (AuthError, nothing
    audited): a staff view wrongly declared public cannot write an audit row in no one's name."""
    from types import SimpleNamespace

    from starlette.requests import Request

    from qamtu.office.errors import AuthError

    written = []
    office = SimpleNamespace(store=SimpleNamespace(execute=lambda *a: written.append(a)))
    request = Request({"type": "http", "method": "POST", "path": "/staff/x", "query_string": b"", "headers": []})
    page = web.Page("/staff/x", lambda ctx: None, "x")
    anon = web.Ctx(request, office, page, None, "ru", "c" * 32, None)
    with pytest.raises(AuthError, match="/staff/x: sign in first"):
        anon.staff_user
    with pytest.raises(AuthError):
        anon.audit("case_moved", "CASE-1")
    assert written == [] and anon.actor == "public"
    user: auth.SessionUser = {"name": "desk1", "role": "desk", "csrf": "c" * 32}
    ctx = web.Ctx(request, office, page, user, "ru", user["csrf"], None)
    assert ctx.staff_user == user
    ctx.audit("case_moved", "CASE-1", {"to": "closed"})
    assert len(written) == 1 and written[0][1][2:6] == ("desk1", "desk", "case_moved", "CASE-1")
