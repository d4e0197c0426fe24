"""Evidence bundle: contents, Ed25519 signature, office key list, and tamper detection of every member."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from conftest import run_qamtu
from qamtu.mapping.rules import load_rules
from qamtu.probe.store import Store
from qamtu.reports.bundle import SIGNED_PREFIX, _json_bytes, _sig_record, build_bundle, bundle_inspection, verify_bundle
from qamtu.reports.documents import generate_documents
from qamtu.reports.findings import compute_findings
from qamtu.reports.keys import KeyFileError, load_office_keys, load_private, new_key
from qamtu.reports.registers import Registers
from test_inspection_helpers import a_village, measure, new_inspection, write_registers


def key_list(*keys: dict) -> str:
    return 'version = "test"\n' + "".join(k["office_list_entry"] for k in keys)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, gazetteer):
    tmp = tmp_path_factory.mktemp("bundle")
    key = new_key("Инспектор Ә", tmp / "keys")
    other = new_key("Stranger", tmp / "keys")
    reg = write_registers(tmp / "reg", office_keys=key_list(key))
    regs, rules = Registers.load(reg), load_rules()
    store = Store(tmp / "s.db")
    v = a_village(gazetteer)
    new_inspection(store, regs, gazetteer, v, ident="B-1")
    measure(store, "B-1", v, download=2.0, tests=3, samples=3)
    findings = compute_findings(store, "B-1", rules, regs)
    docs = generate_documents(store, "B-1", tmp / "docs", rules=rules, registers=regs, gazetteer=gazetteer,
                              langs=("kk",), findings=findings)
    path = tmp / "B-1.zip"
    result = build_bundle(store, "B-1", path, key_path=key["private_key"], signer="Инспектор Ә", rules=rules,
                          registers=regs, findings=findings, documents=docs)
    keys, keys_path = load_office_keys(None, reg)
    yield {"path": path, "result": result, "store": store, "key": key, "other": other, "keys": keys,
           "keys_path": str(keys_path), "reg": reg, "tmp": tmp, "regs": regs, "rules": rules}
    store.close()


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write_zip(path: Path, data: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, blob in data.items():
            zf.writestr(name, blob)
    return path


def test_bundle_verifies_and_holds_everything(bundle):
    rep = verify_bundle(bundle["path"], bundle["keys"], bundle["keys_path"])
    assert rep.ok and rep.intact and rep.trusted, rep.problem
    data = members(bundle["path"])
    sessions = [s for s in bundle["result"]["chains"]]
    assert rep.checked_chains == len(sessions) == 3 and rep.checked_files == len(data) - 2
    names = set(data)
    for needed in ("inspection.json", "findings.json", "documents/act_kk.pdf", "documents/protocol_kk.docx",
                   "documents/map_kk.png", "data/samples.csv", "data/samples.geojson", "data/speedtests.csv",
                   "data/speedtests.jsonl", "rules/kz-coverage-2026.1.toml", "registers/art637.toml",
                   "registers/mci.toml", "registers/instruments.toml", "signer.pub", "manifest.json", "manifest.sig"):
        assert needed in names, needed
    assert (sum(n.startswith("data/records/") for n in names) == 3
            and sum(n.startswith("transcripts/") for n in names) == 3)
    manifest = json.loads(data["manifest.json"])
    heads = {r.session_id: r.head_hash for r in bundle["store"].verify()}
    assert {c["session_id"]: c["head_hash"] for c in manifest["chains"]} == heads
    series = [json.loads(line) for line in data["data/speedtests.jsonl"].decode().splitlines()]
    assert len(series) == 9 and series[0]["result"]["download"]["series_mbps"]
    geo = json.loads(data["data/samples.geojson"])
    assert len(geo["features"]) == 9 and geo["features"][0]["geometry"]["type"] == "Point"
    transcript = data["transcripts/" + sessions[0]["session_id"] + ".txt"].decode()
    assert transcript.count("# seq ") == 3  # one block per sample; synthetic samples carry no AT exchange
    assert "(no raw exchange recorded with this sample)" in transcript
    sig = json.loads(data["manifest.sig"])
    assert sig["manifest_sha256"] == hashlib.sha256(data["manifest.json"]).hexdigest()


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_flipping_one_byte_of_any_member_fails_naming_it(bundle, tmp_path, where):
    data = members(bundle["path"])
    for name, blob in data.items():
        pos = {"first": 0, "middle": len(blob) // 2, "last": len(blob) - 1}[where]
        bad = dict(data)
        bad[name] = blob[:pos] + bytes([blob[pos] ^ 0x01]) + blob[pos + 1:]
        rep = verify_bundle(write_zip(tmp_path / "t.zip", bad), bundle["keys"])
        assert not rep.ok and not rep.intact, f"{name}@{pos}: tampering not detected"
        assert rep.member == name and name in rep.problem, f"{name}@{pos}: {rep.member}: {rep.problem}"


def test_flipping_raw_bytes_in_the_zip_names_the_member(bundle, tmp_path):
    raw = bundle["path"].read_bytes()
    with zipfile.ZipFile(bundle["path"]) as zf:
        infos = zf.infolist()
    for info in infos:
        local_extra = int.from_bytes(raw[info.header_offset + 28: info.header_offset + 30], "little")
        start = info.header_offset + 30 + len(info.filename.encode()) + local_extra
        pos = start + info.compress_size // 2
        bad = bytearray(raw)
        bad[pos] ^= 0x40
        path = tmp_path / "raw.zip"
        path.write_bytes(bytes(bad))
        rep = verify_bundle(path, bundle["keys"])
        assert not rep.ok and rep.member == info.filename, f"{info.filename}: {rep.member}: {rep.problem}"


def test_added_and_removed_members_are_named(bundle, tmp_path):
    data = members(bundle["path"])
    rep = verify_bundle(write_zip(tmp_path / "a.zip", {**data, "documents/extra.pdf": b"%PDF"}), bundle["keys"])
    assert rep.member == "documents/extra.pdf" and "not listed" in rep.problem
    less = {k: v for k, v in data.items() if k != "data/samples.csv"}
    rep = verify_bundle(write_zip(tmp_path / "r.zip", less), bundle["keys"])
    assert rep.member == "data/samples.csv" and "missing" in rep.problem
    rep = verify_bundle(write_zip(tmp_path / "m.zip", {k: v for k, v in data.items() if k != "manifest.sig"}))
    assert rep.member == "manifest.sig"
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert "not a readable ZIP" in verify_bundle(tmp_path / "junk.zip").problem


def _resign(data: dict[str, bytes], key_path: str, edit, signer_pub: bytes | None = None) -> dict[str, bytes]:
    """What a forger with a private key would do: change a member, rehash, re-sign (``signer.pub``:
    the key's own public key in PEM, unless ``signer_pub`` is given)."""
    data = dict(data)
    edit(data)
    manifest = json.loads(data["manifest.json"])
    for name in manifest["files"]:
        manifest["files"][name] = {"sha256": hashlib.sha256(data[name]).hexdigest(), "bytes": len(data[name])}
    key = load_private(key_path)
    from qamtu.reports.keys import key_id, public_b64

    manifest["signer"].update(key_id=key_id(key.public_key()), public_key=public_b64(key.public_key()))
    from cryptography.hazmat.primitives import serialization

    data["signer.pub"] = signer_pub or key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
    manifest["files"]["signer.pub"] = {"sha256": hashlib.sha256(data["signer.pub"]).hexdigest(),
                                       "bytes": len(data["signer.pub"])}
    data["manifest.json"] = json.dumps(manifest).encode()
    digest = hashlib.sha256(data["manifest.json"]).hexdigest()
    data["manifest.sig"] = _json_bytes(_sig_record(digest, key.sign(SIGNED_PREFIX + digest.encode()),
                                                   key_id(key.public_key())))
    return data


def test_bundle_signed_by_a_key_outside_the_office_list_is_reported(bundle, tmp_path):
    forged = _resign(members(bundle["path"]), bundle["other"]["private_key"],
                     lambda d: d.__setitem__("data/samples.csv", d["data/samples.csv"].replace(b"2026", b"2025", 1)))
    rep = verify_bundle(write_zip(tmp_path / "f.zip", forged), bundle["keys"], "office.toml")
    assert rep.intact and not rep.trusted and not rep.ok
    assert bundle["other"]["key_id"] in rep.problem and "NOT in the office key list office.toml" in rep.problem
    # and the genuine bundle is untrusted against an empty list
    rep = verify_bundle(bundle["path"], None)
    assert rep.intact and not rep.trusted


@pytest.mark.parametrize("kind", ["ed25519", "x25519"])
def test_signer_pub_must_be_the_signers_ed25519_key_not_the_same_bytes_of_another_kind(bundle, tmp_path, kind):
    """signer.pub re-written (and the manifest re-signed by the trusted key) as the signer's key in PEM: accepted;
    as an X25519 key with the same 32 raw bytes: refused (it was accepted while only the raw bytes were compared)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

    pub = load_private(bundle["key"]["private_key"]).public_key()
    if kind == "x25519":
        pub = X25519PublicKey.from_public_bytes(pub.public_bytes(serialization.Encoding.Raw,
                                                                 serialization.PublicFormat.Raw))
    pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    data = _resign(members(bundle["path"]), bundle["key"]["private_key"], lambda d: None, signer_pub=pem)
    rep = verify_bundle(write_zip(tmp_path / f"{kind}.zip", data), bundle["keys"], bundle["keys_path"])
    if kind == "ed25519":
        assert rep.ok, rep.problem
    else:
        assert not rep.ok and rep.member == "signer.pub" and "not the key named in the manifest" in rep.problem


def test_a_trusted_key_cannot_hide_an_edited_record(bundle, tmp_path):
    def edit(d):
        name = next(n for n in d if n.startswith("data/records/"))
        lines = d[name].decode().splitlines()
        rec = json.loads(lines[3])
        rec["payload"] = rec["payload"].replace("-1", "-2", 1)
        lines[3] = json.dumps(rec, ensure_ascii=False)
        d[name] = ("\n".join(lines) + "\n").encode()
    forged = _resign(members(bundle["path"]), bundle["key"]["private_key"], edit)
    rep = verify_bundle(write_zip(tmp_path / "c.zip", forged), bundle["keys"])
    assert not rep.intact and rep.member.startswith("data/records/") and "hash chain broken at record 4" in rep.problem


def test_private_key_is_0600_never_overwritten_and_refused_when_open(tmp_path):
    k = new_key("Тест", tmp_path)  # a name without Latin letters still gets a file name
    mode = stat.S_IMODE(os.stat(k["private_key"]).st_mode)
    assert mode == 0o600
    with pytest.raises(KeyFileError, match="already exists"):
        new_key("Тест", tmp_path)
    load_private(k["private_key"])
    os.chmod(k["private_key"], 0o644)
    with pytest.raises(KeyFileError, match="readable by others.*chmod 600"):
        load_private(k["private_key"])
    with pytest.raises(KeyFileError, match="no such private key"):
        load_private(tmp_path / "missing.key")


def test_bundle_with_an_open_key_is_refused_before_any_work(bundle, tmp_path, monkeypatch):
    import qamtu.reports.findings

    calls = []
    monkeypatch.setattr(qamtu.reports.findings, "compute_findings", lambda *a, **kw: calls.append(a))
    k = new_key("open", tmp_path)
    os.chmod(k["private_key"], 0o640)
    with pytest.raises(KeyFileError):
        bundle_inspection(bundle["store"], "B-1", tmp_path / "x.zip", key_path=k["private_key"], signer="x",
                          rules=bundle["rules"], registers=bundle["regs"])
    assert not calls, "the key must be refused before the findings are computed"
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob(".partial*"))


def test_qamtu_verify_command(bundle, tmp_path):
    ok = run_qamtu("verify", str(bundle["path"]), "--registers", str(bundle["reg"]))
    assert "OK" in ok.stdout and "3 hash chains" in ok.stdout
    data = members(bundle["path"])
    data["documents/act_kk.pdf"] = data["documents/act_kk.pdf"][:-1] + b"\x00"
    bad = run_qamtu("verify", str(write_zip(tmp_path / "bad.zip", data)), "--registers", str(bundle["reg"]), "--json",
                    check=False)
    assert bad.returncode == 1 and json.loads(bad.stdout)["member"] == "documents/act_kk.pdf"
    untrusted = run_qamtu("verify", str(bundle["path"]), check=False)  # bundled (empty) office key list
    assert (untrusted.returncode == 1 and "UNTRUSTED" in untrusted.stdout
            and "NOT in the office key list" in untrusted.stdout)


def test_transcript_keeps_raw_at_exchanges_verbatim():
    from qamtu.reports.bundle import _transcript

    payload = {"modem": {"port": "/dev/ttyUSB2"}, "reading": {"raw": [
        {"command": "AT+QENG=\"servingcell\"", "lines": ["+QENG: \"servingcell\",\"NOCONN\",\"LTE\",\"FDD\",401,77"],
         "final": "OK", "events": ["+CREG: 1"]}]}}
    text = _transcript([{"kind": "sample", "seq": 5, "time_utc": "2026-06-01T05:00:00.000000Z",
                         "payload": json.dumps(payload)}, {"kind": "event", "seq": 6, "payload": "{}"}]).decode()
    assert text.splitlines() == ["# seq 5 2026-06-01T05:00:00.000000Z port /dev/ttyUSB2", '> AT+QENG="servingcell"',
                                 '< +QENG: "servingcell","NOCONN","LTE","FDD",401,77', "< (unsolicited) +CREG: 1",
                                 "< OK"]


def test_every_byte_of_the_signature_file_and_manifest_head_is_covered(bundle, tmp_path):
    """No field of manifest.sig is left unchecked: a flip anywhere in it fails (exhaustive)."""
    data = members(bundle["path"])
    small = {k: v for k, v in data.items() if k in ("manifest.json", "manifest.sig")}
    for name in ("manifest.sig", "manifest.json"):
        blob = data[name]
        positions = range(len(blob)) if name == "manifest.sig" else range(0, len(blob), 7)
        for pos in positions:
            bad = dict(small)
            bad[name] = blob[:pos] + bytes([blob[pos] ^ 0x01]) + blob[pos + 1:]
            rep = verify_bundle(write_zip(tmp_path / "s.zip", bad), bundle["keys"])
            assert rep.member == name and not rep.intact, f"{name}@{pos}: {rep.problem}"
    # with only the two signed files kept, the first missing member is reported, not a signature error
    rep = verify_bundle(write_zip(tmp_path / "s.zip", small), bundle["keys"])
    assert "listed in the manifest but missing" in rep.problem
