"""Fuzzing every reader of files and network requests (issue 18, "Also"): hostile input gives a clear
error of the package's own tree, never a traceback, and nothing half-written. Hypothesis, with a fixed
budget per reader so the whole file stays within a minute or two in CI."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import logging
import socket
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qamtu.reports.bundle import SIGNED_PREFIX, _json_bytes, _sig_record, verify_bundle

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


# ------------------------------------------------------------------ bundles
def _small_bundle() -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from qamtu.reports.keys import key_id, public_b64

    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    members = {"inspection.json": b'{"id": "F-1"}\n', "data/records/s.jsonl": b""}
    manifest = {"format": "qamtu-bundle-v1", "created_utc": "2026-06-01T00:00:00Z",
                "files": {n: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)} for n, b in members.items()},
                "chains": [], "signer": {"name": "F", "key_id": key_id(pub), "public_key": public_b64(pub)}}
    mbytes = json.dumps(manifest).encode()
    digest = hashlib.sha256(mbytes).hexdigest()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in members.items():
            zf.writestr(n, b)
        zf.writestr("manifest.json", mbytes)
        zf.writestr("manifest.sig", _json_bytes(_sig_record(digest, key.sign(SIGNED_PREFIX + digest.encode()),
                                                            key_id(pub))))
    return buf.getvalue()


BUNDLE = _small_bundle()


def test_the_fuzzed_bundle_is_intact_to_start_with(tmp_path):
    p = tmp_path / "b.zip"
    p.write_bytes(BUNDLE)
    rep = verify_bundle(p)
    assert rep.intact and not rep.trusted, rep.problem


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(BUNDLE) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, len(BUNDLE))), junk=st.binary(max_size=64))
def test_mutated_bundles_give_a_verdict_never_an_exception(tmp_path_factory, edits, cut, junk):
    data = bytearray(BUNDLE)
    for pos, val in edits:
        data[pos] = val
    if cut is not None:
        data = data[:cut] + junk
    p = tmp_path_factory.mktemp("fz") / "b.zip"
    p.write_bytes(bytes(data))
    rep = verify_bundle(p)
    assert rep.ok is False or bytes(data) == BUNDLE or rep.intact
    if not rep.intact:
        assert rep.problem and "\x1b" not in rep.problem


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_are_not_a_bundle(tmp_path_factory, blob):
    p = tmp_path_factory.mktemp("fz") / "r.zip"
    p.write_bytes(blob)
    rep = verify_bundle(p)
    assert not rep.ok and rep.problem


# ------------------------------------------------------------------ survey and plan imports
CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)


@FUZZ
@given(rows=st.lists(st.lists(st.one_of(CELL, st.sampled_from(['"', '""', '"a', "2024", "post", "yes", ";", "\n"])),
                              max_size=9), max_size=8),
       header=st.sampled_from(["kato,year,dimension,value,observed_on,observer,note",
                               "kato,dimension,planned_year,programme,responsible,note", ""]))
def test_fuzzed_import_files_give_import_errors_only(tmp_path_factory, gazetteer, rows, header):
    from qamtu.reports.surveys import SurveyImportError, check_plan_file, check_survey_file

    p = tmp_path_factory.mktemp("fz") / "f.csv"
    p.write_text(header + "\n" + "\n".join(",".join(r) for r in rows), encoding="utf-8")
    for check in (check_survey_file, check_plan_file):
        try:
            check(p, gazetteer)
        except SurveyImportError as exc:
            assert str(p) in str(exc)


@FUZZ
@given(st.binary(max_size=1024))
def test_fuzzed_xlsx_bytes_give_import_errors_only(tmp_path_factory, gazetteer, blob):
    from qamtu.reports.surveys import SurveyImportError, check_survey_file

    p = tmp_path_factory.mktemp("fz") / "f.xlsx"
    p.write_bytes(b"PK\x03\x04" + blob)
    with pytest.raises(SurveyImportError):
        check_survey_file(p, gazetteer)


# ------------------------------------------------------------------ settlements files, rule sets, registers
JSONISH = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), CELL),
                       lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(CELL, c, max_size=4)),
                       max_leaves=12)


@FUZZ
@given(doc=st.one_of(JSONISH, st.fixed_dictionaries({"type": st.just("FeatureCollection"),
                                                      "features": st.lists(JSONISH, max_size=3)})))
def test_fuzzed_settlements_files_give_gazetteer_errors(tmp_path_factory, doc):
    from qamtu.mapping.errors import MappingError
    from qamtu.mapping.gazetteer import Gazetteer

    p = tmp_path_factory.mktemp("fz") / "s.geojson"
    p.write_text(json.dumps(doc, allow_nan=True), encoding="utf-8")
    try:
        Gazetteer.load(p)
    except MappingError as exc:
        assert str(p) in str(exc) or p.name in str(exc)


TOMLISH = st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
                          st.one_of(st.integers(), st.floats(allow_nan=False), CELL, st.booleans(),
                                    st.lists(st.integers(), max_size=3),
                                    st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.integers(),
                                                    max_size=3)), max_size=6)


def _toml(d: dict) -> str:
    out, tables = [], []
    for k, v in d.items():
        if isinstance(v, dict):
            tables.append(f"[{k}]\n" + "".join(f"{a} = {b}\n" for a, b in v.items()))
        else:
            out.append(f"{k} = {json.dumps(v, ensure_ascii=False) if not isinstance(v, bool) else str(v).lower()}")
    return "\n".join(out) + "\n" + "\n".join(tables)


@FUZZ
@given(d=TOMLISH, raw=st.one_of(st.none(), st.text(max_size=200)))
def test_fuzzed_rule_sets_and_registers_give_their_errors(tmp_path_factory, d, raw):
    from qamtu.mapping.rules import RuleSetError, load_rules
    from qamtu.reports.registers import MODELS, RegisterError, load_file

    folder = tmp_path_factory.mktemp("fz")
    text = raw if raw is not None else _toml(d)
    (folder / "rules.toml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleSetError):
        load_rules(folder / "rules.toml")
    for name in MODELS:
        (folder / f"{name}.toml").write_text(text, encoding="utf-8")
        try:
            load_file(name, folder)
        except RegisterError as exc:
            assert f"{name}.toml" in str(exc)


# ------------------------------------------------------------------ laptop stores given to push/check
HOSTILE_STORES = {
    "text.db": b"not a database at all\n",
    # (an empty file is a new store to Store(): opening read-only is issue 18 item 21, the store's)
    "truncated.db": b"SQLite format 3\x00" + b"\x10\x00" + b"\x00" * 30,
    "random.db": bytes(range(256)) * 64,
}


@pytest.mark.parametrize("name", sorted(HOSTILE_STORES))
def test_hostile_store_files_give_one_line_errors(tmp_path, name):
    from conftest import run_qamtu

    p = tmp_path / name
    p.write_bytes(HOSTILE_STORES[name])
    before = p.read_bytes()
    for args in (("sessions", "check", "--db", str(p)), ("db", "push", str(p), "--to", str(tmp_path / "office.db"))):
        out = run_qamtu(*args, check=False)
        assert out.returncode != 0 and "Traceback" not in out.stderr + out.stdout, (args, out.stderr)
        assert "error" in out.stderr.lower()
    assert p.read_bytes() == before  # never "repaired" or migrated by reading


# ------------------------------------------------------------------ the speed server's endpoints
@pytest.fixture(scope="module")
def server():
    from qamtu.probe.speedtest import ServerLimits, ServerThread

    limits = ServerLimits(max_transfer_s=1.0, max_mini_upload_bytes=4096, max_upload_bytes=4096)
    with ServerThread(limits=limits) as srv:
        yield srv


PATHS = st.sampled_from(["/qamtu/v1/info", "/qamtu/v1/ping", "/qamtu/v1/download", "/qamtu/v1/upload",
                         "/qamtu/v1/stats", "/", "/speedtest/", "/speedtest/latency.txt", "/speedtest/upload.php",
                         "/speedtest/random350x350.jpg", "/speedtest/random{n}x{n}.jpg", "/x"])
QUERY = st.lists(st.tuples(st.sampled_from(["seconds", "chunk", "x"]),
                           st.one_of(st.sampled_from(["nan", "inf", "-1", "0", "1e309", "0.05", "9" * 5000, "", "%00"]),
                                     st.text(alphabet="0123456789.-e", max_size=8))), max_size=3)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(method=st.sampled_from(["GET", "POST", "PUT", "HEAD"]), path=PATHS, query=QUERY,
       n=st.one_of(st.integers(0, 10 ** 6), st.just(10 ** 400)), body=st.binary(max_size=600))
def test_fuzzed_requests_never_get_a_500(server, caplog, method, path, query, n, body):
    caplog.set_level(logging.WARNING)
    host, port = server.url.removeprefix("http://").split(":")
    path = path.replace("{n}", str(n))
    qs = "&".join(f"{k}={v}" for k, v in query)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.request(method, path + ("?" + qs if qs else ""), body=body if method in ("POST", "PUT") else None)
        r = c.getresponse()
        if method != "HEAD" and r.status == 200 and "download" in path or "random" in path:
            r.read(1 << 16)
        else:
            r.read()
        assert r.status < 500 or r.status == 503, (method, path, qs, r.status)
    except (ConnectionError, http.client.HTTPException, socket.timeout):
        pass  # the server may end a transfer (or a bad request) by closing: that is an answer too
    finally:
        c.close()
    assert "Traceback" not in caplog.text and "Error handling request" not in caplog.text, caplog.text[-2000:]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.one_of(st.binary(max_size=300), st.builds(lambda a, b: a + b"\r\n\r\n" + b,
                                                         st.binary(max_size=200), st.binary(max_size=100))))
def test_raw_garbage_on_the_socket_is_answered_or_closed(server, caplog, raw):
    caplog.set_level(logging.WARNING)
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        try:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
            data = s.recv(200)
        except (ConnectionError, socket.timeout):
            data = b""
    assert not data.startswith(b"HTTP/1.1 500"), data
    assert "Traceback" not in caplog.text and "Error handling request" not in caplog.text, caplog.text[-2000:]


def test_corpus_of_hostile_bundles_is_kept_and_refused(tmp_path):
    """Hand-made hostile bundles kept in tests/fixtures/hostile (made by tests/make_hostile_corpus.py)."""
    corpus = Path(__file__).parent / "fixtures" / "hostile"
    files = sorted(corpus.glob("*.zip"))
    assert len(files) >= 5
    for f in files:
        rep = verify_bundle(f)
        assert not rep.ok and rep.problem, f.name
