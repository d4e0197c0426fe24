"""`qamtu verify` against hostile bundles: ZIP bombs, smuggled bytes, control characters, forged names,
key validity, wrong-shaped self-signed manifests and member floods (issue 18 items 5-8, 15, 16)."""

# ruff: noqa: F811 - the imported fixtures are parameters of the tests below
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
import zipfile
from datetime import date

import pytest

from conftest import run_qamtu
from hostile_zip import deflated, raw_zip, zeros_bomb_member
from qamtu.reports.bundle import SIGNED_PREFIX, BundleLimits, _json_bytes, _sig_record, verify_bundle
from qamtu.reports.keys import key_id, load_private, public_b64
from qamtu.reports.registers import OfficeKeys
from test_bundle_verify import bundle, key_list, members, write_zip  # noqa: F401 - the module-scoped fixture

RSS_SCRIPT = """
import resource, sys
from qamtu.reports.bundle import verify_bundle
rep = verify_bundle(sys.argv[1])
print(repr(rep.problem))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_kib(path) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    problem, rss = out.stdout.strip().splitlines()
    return problem, int(rss)


def signed(data: dict[str, bytes], manifest, key_path: str) -> dict[str, bytes]:
    """Sign any manifest object with the key at ``key_path``, as a forger holding that key would."""
    key = load_private(key_path)
    data = dict(data)
    data["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    digest = hashlib.sha256(data["manifest.json"]).hexdigest()
    data["manifest.sig"] = _json_bytes(_sig_record(digest, key.sign(SIGNED_PREFIX + digest.encode()),
                                                   key_id(key.public_key())))
    return data


def resigned(bundle, *, key=None, edit_manifest=None, extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """The genuine bundle's members, optionally with extra members listed, re-signed after ``edit_manifest``."""
    data = members(bundle["path"])
    data.update(extra or {})
    manifest = json.loads(data["manifest.json"])
    for name, blob in (extra or {}).items():
        manifest["files"][name] = {"sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob)}
    k = load_private((key or bundle["key"])["private_key"])
    manifest["signer"].update(key_id=key_id(k.public_key()), public_key=public_b64(k.public_key()))
    if edit_manifest:
        edit_manifest(manifest)
    return signed(data, manifest, (key or bundle["key"])["private_key"])


def test_zip_bomb_is_refused_from_the_central_directory_in_little_memory(tmp_path):
    small = tmp_path / "small.zip"
    small.write_bytes(raw_zip([deflated("a.txt", b"x")]))
    _, base = peak_rss_kib(small)
    piece = zeros_bomb_member("documents/0.pdf", 256 << 20)
    bomb = raw_zip([type(piece)(f"documents/{i}.pdf", piece.data, piece.crc, piece.size) for i in range(9)])
    assert len(bomb) < 2.5e6  # about 2 MB that inflates to 2.25 GiB
    path = tmp_path / "bomb.zip"
    path.write_bytes(bomb)
    t = time.perf_counter()
    problem, peak = peak_rss_kib(path)
    assert "more than the" in problem and "ZIP bomb" in problem
    assert time.perf_counter() - t < 20
    assert peak - base < 32 * 1024, f"peak RSS grew by {(peak - base) // 1024} MiB"


def test_members_are_hashed_as_they_stream(bundle, tmp_path):
    """A signed bundle with a 300 MiB member verifies without holding the member in memory."""
    big = zeros_bomb_member("documents/big.bin", 300 << 20)
    data = resigned(bundle, edit_manifest=lambda m: m["files"].__setitem__(
        "documents/big.bin", {"sha256": hashlib.sha256(bytes(300 << 20)).hexdigest(), "bytes": 300 << 20}))
    raw = [deflated(n, b) for n, b in sorted(data.items())] + [big]
    path = tmp_path / "big.zip"
    path.write_bytes(raw_zip(raw))
    _, base = peak_rss_kib(bundle["path"])
    problem, peak = peak_rss_kib(path)
    assert "NOT in the office key list" in problem  # fully checked (intact); no key list passed
    assert peak - base < 64 * 1024, f"peak RSS grew by {(peak - base) // 1024} MiB"
    small = BundleLimits(max_member_bytes=100 << 20)
    rep = verify_bundle(path, bundle["keys"], limits=small)
    assert rep.member == "documents/big.bin" and "declares 314572800 bytes" in rep.problem


@pytest.mark.parametrize("how", ["prepended", "appended", "comment", "gap"])
def test_bytes_outside_the_members_are_refused(bundle, tmp_path, how):
    raw = bundle["path"].read_bytes()
    decoy = raw_zip([deflated("inspection.json", b'{"forged": true}')])
    if how == "prepended":  # a streaming extractor would read the decoy's members first
        forged = decoy + raw
    elif how == "appended":
        forged = raw + b"trailing data"
    elif how == "comment":
        with zipfile.ZipFile(bundle["path"]) as zf:
            data = {i.filename: zf.read(i) for i in zf.infolist()}
        p = tmp_path / "c.zip"
        with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, blob in data.items():
                zf.writestr(name, blob)
            zf.comment = b"hello"
        forged = p.read_bytes()
    else:  # a hidden local header between two members
        data = members(bundle["path"])
        ms = [deflated(n, b) for n, b in data.items()]
        body = raw_zip(ms)
        first_end = 30 + len(ms[0].name.encode()) + len(ms[0].data)
        hidden = decoy[: decoy.index(b"PK\x01\x02")]
        cd = raw_zip(ms).index(b"PK\x01\x02")
        # rebuild with the hidden member inserted after the first one: shift later offsets by len(hidden)
        import struct
        central = bytearray(body[cd:-22])
        pos = 0
        while pos < len(central):
            nlen, xlen, clen = struct.unpack("<HHH", central[pos + 28: pos + 34])
            off = struct.unpack("<I", central[pos + 42: pos + 46])[0]
            if off >= first_end:
                central[pos + 42: pos + 46] = struct.pack("<I", off + len(hidden))
            pos += 46 + nlen + xlen + clen
        eocd = bytearray(body[-22:])
        eocd[16:20] = struct.pack("<I", cd + len(hidden))
        forged = body[:first_end] + hidden + body[first_end:cd] + bytes(central) + bytes(eocd)
        with zipfile.ZipFile(__import__("io").BytesIO(forged)) as zf:
            assert zf.testzip() is None  # a valid ZIP all the same
    path = tmp_path / f"{how}.zip"
    path.write_bytes(forged)
    rep = verify_bundle(path, bundle["keys"])
    assert not rep.ok and not rep.intact and "not a bundle as Qamtu writes it" in rep.problem, rep.problem


def test_control_characters_in_names_never_reach_the_terminal(bundle, tmp_path):
    data = members(bundle["path"])
    evil = "documents/x\x1b[1A\x1b[2K\r\x1b[32mOK\x1b[0m all fine\u202e.pdf"
    path = write_zip(tmp_path / "ctl.zip", {**data, evil: b"%PDF"})
    for args in ((), ("--json",)):
        out = run_qamtu("verify", str(path), "--registers", str(bundle["reg"]), *args, check=False)
        assert out.returncode == 1
        assert "\x1b" not in out.stdout and "\r" not in out.stdout and "\u202e" not in out.stdout
        assert "\\x1b[1A" in out.stdout
    rep = verify_bundle(path, bundle["keys"])
    assert rep.member.startswith("documents/x\\x1b") and "\\u202e" in rep.problem


def test_the_office_list_name_is_printed_not_the_claimed_one(bundle, tmp_path):
    data = resigned(bundle, edit_manifest=lambda m: m["signer"].__setitem__("name", "Head of the Inspection"))
    path = write_zip(tmp_path / "n.zip", data)
    rep = verify_bundle(path, bundle["keys"])
    assert rep.ok and rep.signer["name"] == "Инспектор Ә" and rep.signer["claimed_name"] == "Head of the Inspection"
    out = run_qamtu("verify", str(path), "--registers", str(bundle["reg"]))
    assert "signed by Инспектор Ә" in out.stdout and "Head of the Inspection" not in out.stdout


def test_key_validity_dates_are_enforced(bundle):
    entry = bundle["keys"].keys[0].model_dump()
    created = date.fromisoformat(json.loads(members(bundle["path"])["manifest.json"])["created_utc"][:10])

    def keys(**dates) -> OfficeKeys:
        return OfficeKeys(version="t", keys=[{**entry, **dates}])

    assert verify_bundle(bundle["path"], keys(valid_from=created.isoformat(), valid_to=created.isoformat())).ok
    rep = verify_bundle(bundle["path"], keys(valid_from="2099-01-01"))
    assert rep.intact and not rep.trusted and "valid only from 2099-01-01" in rep.problem
    rep = verify_bundle(bundle["path"], keys(valid_to="2020-01-01"))
    assert rep.intact and not rep.trusted and "valid only until 2020-01-01" in rep.problem
    rep = verify_bundle(bundle["path"], keys(), today=date(2020, 1, 1))
    assert not rep.trusted and "after today" in rep.problem
    with pytest.raises(ValueError, match="not a date"):
        keys(valid_to="someday")


@pytest.mark.parametrize("shape", [
    [], "text", 42, {"format": "x"}, {"signer": "me", "files": {}, "format": "x"},
    {"signer": {"key_id": 1, "public_key": None}, "files": [], "format": "x"},
    "files-list", "chains-junk", "file-bytes-text", "created-junk"])
def test_wrong_shaped_self_signed_manifests_give_a_message(bundle, tmp_path, shape):
    other = bundle["other"]
    k = load_private(other["private_key"])
    good = json.loads(members(bundle["path"])["manifest.json"])
    good["signer"].update(key_id=key_id(k.public_key()), public_key=public_b64(k.public_key()))
    if shape == "files-list":
        manifest = {**good, "files": list(good["files"])}
    elif shape == "chains-junk":
        manifest = {**good, "chains": [1, {"member": ["x"]}]}
    elif shape == "file-bytes-text":
        manifest = {**good, "files": {n: {"sha256": 5, "bytes": "many"} for n in good["files"]}}
    elif shape == "created-junk":
        manifest = {**good, "created_utc": {"a": 1}}
    else:
        manifest = shape
    data = signed({"signer.pub": b"junk"}, manifest, other["private_key"])
    path = write_zip(tmp_path / "w.zip", data)
    rep = verify_bundle(path, bundle["keys"])
    assert not rep.ok and rep.member == "manifest.json" and "not a valid manifest" in rep.problem, rep.problem
    out = run_qamtu("verify", str(path), "--json", check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert json.loads(out.stdout)["problem"] == rep.problem


def test_member_floods_are_refused_or_checked_fast(tmp_path):
    ms = [deflated(f"m/{i}", b"") for i in range(40_000)]
    path = tmp_path / "flood.zip"
    path.write_bytes(raw_zip(ms + [ms[123]]))
    t = time.perf_counter()
    rep = verify_bundle(path)
    assert time.perf_counter() - t < 1.0 and not rep.ok and "more than the 10000" in rep.problem
    rep = verify_bundle(path, limits=BundleLimits(max_members=50_000))
    assert time.perf_counter() - t < 2.0 and rep.member == "m/123" and "appears twice" in rep.problem


def test_bundles_get_the_umask_permissions(bundle):
    import os
    import stat

    from qamtu.safeio import current_umask

    assert stat.S_IMODE(os.stat(bundle["path"]).st_mode) == 0o666 & ~current_umask()
    assert not [p for p in bundle["path"].parent.iterdir() if p.name.startswith(".")]
