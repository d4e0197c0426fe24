"""The tamper-evident evidence bundle of an inspection, and its verification.

A bundle is one ZIP file::

    inspection.json            the inspection record and what the store holds for it
    findings.json              the findings (indicators, Wilson intervals, verdict, legal qualification)
    documents/...              the act, protocol and order (PDF and DOCX, kk and ru) and the map excerpt
    data/samples.csv|.geojson  the inspection's samples
    data/speedtests.csv        the speed tests (flat); data/speedtests.jsonl: full results with their series
    data/records/SESSION.jsonl every chained record of each linked session (payload, prev_hash, hash)
    transcripts/SESSION.txt    the raw AT command/response transcripts of the samples
    rules/*.toml, registers/*.toml   the rule set and the legal tables and registers used
    signer.pub                 the signer's Ed25519 public key (PEM)
    manifest.json              SHA-256 and size of every member above, the sessions' chain heads, the signer
    manifest.sig               JSON: SHA-256 of manifest.json and the Ed25519 signature over it

The signed message is ``b"qamtu-bundle-v1\\n" + sha256(manifest.json) as hex``. :func:`verify_bundle`
reads every member (ZIP CRC), checks the signature, every hash, every hash chain and its head, and
whether the signing key is in the office key list; it names the first thing that does not match.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import struct
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import __version__
from ..safeio import atomic_output
from ..textsafe import csv_frame, printable
from ..store.chain import canonical_json, verify_rows
from ..probe.samples import time_text
from .errors import ReportError
from .inspections import get_inspection, linked_sessions, summary
from .keys import key_id, load_private, public_b64, public_from_b64, verify_signature
from .registers import OfficeKeys

FORMAT = "qamtu-bundle-v1"
SIGNED_PREFIX = b"qamtu-bundle-v1\n"
META_MEMBERS = ("manifest.json", "manifest.sig")


class BundleError(ReportError):
    """A bundle could not be built (missing key, inspection, documents)."""


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")


def _frame_csv(df) -> bytes:
    df = df.copy()
    if "time_utc" in df:
        df["time_utc"] = df["time_utc"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return csv_frame(df).to_csv(index=False, lineterminator="\n").encode("utf-8")


def _geojson(df) -> bytes:
    feats = []
    for row in df.to_dict(orient="records"):
        lat, lon = row.get("lat"), row.get("lon")
        props = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        geom = (None if lat is None or lon is None or lat != lat or lon != lon
                else {"type": "Point", "coordinates": [lon, lat]})
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    return (json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, default=str)
            + "\n").encode("utf-8")


def _transcript(records: list[dict]) -> bytes:
    out = io.StringIO()
    for r in records:
        if r["kind"] != "sample":
            continue
        payload = json.loads(r["payload"])
        reading = payload.get("reading") or {}
        raw = reading.get("raw") or []
        out.write(f"# seq {r['seq']} {r['time_utc']} port {payload.get('modem', {}).get('port')}\n")
        if not raw:
            out.write("(no raw exchange recorded with this sample)\n")
        for ex in raw:
            out.write(f"> {ex.get('command', '')}\n")
            for line in ex.get("lines", []):
                out.write(f"< {line}\n")
            for ev in ex.get("events", []):
                out.write(f"< (unsolicited) {ev}\n")
            out.write(f"< {ex.get('final', '')}\n")
    return out.getvalue().encode("utf-8")


def bundle_members(store, inspection_id: str, rules, registers, findings: dict,
                   documents: dict[str, Path]) -> tuple[dict[str, bytes], list[dict]]:
    """Every member of the bundle (name -> bytes) and the chain heads of the linked sessions."""
    insp = get_inspection(store, inspection_id)
    members: dict[str, bytes] = {
        "inspection.json": _json_bytes(summary(store, insp)),
        "findings.json": _json_bytes(findings),
    }
    for name, path in sorted(documents.items()):
        members[f"documents/{name}"] = Path(path).read_bytes()
    samples = store.samples_frame(inspection=inspection_id)
    tests = store.speedtests_frame(inspection=inspection_id)
    members["data/samples.csv"] = _frame_csv(samples)
    s2 = samples.copy()
    s2["time_utc"] = s2["time_utc"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    members["data/samples.geojson"] = _geojson(s2)
    members["data/speedtests.csv"] = _frame_csv(tests)
    chains, full_tests = [], []
    for s in linked_sessions(store, inspection_id):
        sid = s["session_id"]
        records = store.records(sid)
        reports = store.verify(sid)
        if not reports[0].ok:
            raise BundleError(f"session {sid} of inspection {inspection_id}: hash chain broken at record "
                              f"{reports[0].broken_at}: {reports[0].reason}; a broken chain cannot be evidence")
        lines = [canonical_json({k: r[k] for k in ("seq", "record_id", "kind", "time_utc", "payload", "prev_hash",
                                                   "hash")})
                 for r in records]
        member = f"data/records/{sid}.jsonl"
        members[member] = ("\n".join(lines) + "\n").encode("utf-8")
        members[f"transcripts/{sid}.txt"] = _transcript(records)
        chains.append({"session_id": sid, "records": len(records), "head_hash": reports[0].head_hash, "member": member})
        for r in records:
            if r["kind"] == "speedtest":
                p = json.loads(r["payload"])
                if (p.get("context") or {}).get("inspection_id") == inspection_id:
                    full_tests.append({"session_id": sid, "seq": r["seq"], "time_utc": r["time_utc"], **p})
    members["data/speedtests.jsonl"] = "".join(canonical_json(t) + "\n" for t in full_tests).encode("utf-8")
    if rules.path:
        members[f"rules/{Path(rules.path).name}"] = Path(rules.path).read_bytes()
    for name, path in registers.paths.items():
        members[f"registers/{name}.toml"] = Path(path).read_bytes()
    return members, chains


def _sig_record(digest: str, signature: bytes, kid: str) -> dict[str, str]:
    """The content of manifest.sig; verification requires these exact bytes, so no field is unchecked."""
    return {"manifest_sha256": digest, "signature": base64.b64encode(signature).decode("ascii"), "key_id": kid,
            "algorithm": "Ed25519", "signed": "qamtu-bundle-v1\\n + manifest_sha256 (hex)"}


def build_bundle(store, inspection_id: str, out: Path | str, *, key_path: Path | str, signer: str, rules, registers,
                 findings: dict, documents: dict[str, Path]) -> dict[str, Any]:
    """Write the signed bundle to ``out`` (all or nothing) and return its manifest summary."""
    key = load_private(key_path)
    pub = key.public_key()
    members, chains = bundle_members(store, inspection_id, rules, registers, findings, documents)
    members["signer.pub"] = pub.public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    manifest = {
        "format": FORMAT, "inspection_id": inspection_id, "created_utc": time_text(datetime.now(timezone.utc)),
        "qamtu_version": __version__,
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for name, data in sorted(members.items())},
        "chains": chains,
        "signer": {"name": signer, "key_id": key_id(pub), "public_key": public_b64(pub), "algorithm": "Ed25519"},
        "rule_set": rules.describe(), "registers": registers.versions(),
    }
    manifest_bytes = _json_bytes(manifest)
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    signature = key.sign(SIGNED_PREFIX + digest.encode("ascii"))
    sig = _sig_record(digest, signature, key_id(pub))
    out = Path(out)
    with atomic_output(out, what="bundle") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in sorted(members.items()):
                zf.writestr(name, data)
            zf.writestr("manifest.json", manifest_bytes)
            zf.writestr("manifest.sig", _json_bytes(sig))
    return {"path": str(out), "members": len(members) + 2, "manifest_sha256": digest, "key_id": key_id(pub),
            "signer": signer, "chains": chains}


# ---------------------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class BundleLimits:
    """What :func:`verify_bundle` accepts before it decompresses anything. Sizes in bytes (uncompressed,
    as the ZIP's central directory declares them; a member that inflates past its declared size fails
    its CRC check without being read further)."""

    max_members: int = 10_000
    max_member_bytes: int = 1 << 30
    max_total_bytes: int = 2 << 30
    max_json_bytes: int = 64 << 20  # manifest.json, manifest.sig, signer.pub: read whole
    max_records_bytes: int = 512 << 20  # one data/records/*.jsonl: parsed to check its hash chain


LIMITS = BundleLimits()
_EOCD = struct.Struct("<4sHHHHIIH")  # end of central directory record, 22 bytes
_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # local file header, 30 bytes
_READ = 1 << 20


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_bundle`. ``ok`` means intact AND signed by a key in the office list.

    ``signer`` holds the office key list's entry (its ``name``) once the key is trusted; the name the
    manifest claims stays in ``claimed_name``. Text fields have control characters escaped."""

    path: str
    intact: bool = False
    trusted: bool = False
    member: Optional[str] = None
    problem: Optional[str] = None
    signer: dict[str, Any] = field(default_factory=dict)
    checked_files: int = 0
    checked_chains: int = 0
    office_keys: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted

    def as_dict(self) -> dict[str, Any]:
        def clean(v: Any) -> Any:
            if isinstance(v, str):
                return printable(v)
            if isinstance(v, dict):
                return {clean(k): clean(x) for k, x in v.items()}
            return v
        return {k: clean(v) for k, v in self.__dict__.items()} | {"ok": self.ok}


def _fail(rep: VerifyReport, member: Optional[str], problem: str) -> VerifyReport:
    rep.member, rep.problem = (None if member is None else printable(member)), printable(problem)
    return rep


def _q(name: Any) -> str:
    """A member name or claimed field for a message: control characters escaped."""
    return printable(name)


def _layout_problem(fh, size: int, infos: list[zipfile.ZipInfo]) -> Optional[str]:
    """Why the file is not exactly a ZIP as Qamtu writes it, or None: members back to back from byte 0,
    then the central directory, then a comment-less end record as the last 22 bytes (no zip64)."""
    if size < _EOCD.size:
        return "too short to be a ZIP file"
    fh.seek(size - _EOCD.size)
    sig, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment = _EOCD.unpack(fh.read(_EOCD.size))
    if sig != b"PK\x05\x06":
        return ("bytes after the end of the ZIP's central directory (a comment or appended data); "
                "a bundle ends with its end record")
    if comment:
        return "the ZIP has a comment; bundles carry none"
    if disk or cd_disk or n_disk != n_total or n_total == 0xFFFF or cd_offset == 0xFFFFFFFF:
        return "multi-disk or zip64 ZIP; bundles are single-file ZIPs without zip64"
    if cd_offset + cd_size != size - _EOCD.size:
        return "bytes before the first member or between members and the central directory (a prepended file?)"
    pos = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset != pos:
            return (f"{info.header_offset - pos:+d} bytes before member {_q(info.filename)} "
                    "(data hidden between members, or a prepended file)")
        fh.seek(pos)
        head = fh.read(_LOCAL.size)
        if len(head) < _LOCAL.size or head[:4] != b"PK\x03\x04":
            return f"member {_q(info.filename)}: no local header where the central directory points"
        flags, name_len, extra_len = _LOCAL.unpack(head)[2], _LOCAL.unpack(head)[9], _LOCAL.unpack(head)[10]
        pos += _LOCAL.size + name_len + extra_len + info.compress_size
        if flags & 0x08:  # a data descriptor follows the data: 12 or 16 bytes (+4 with zip64 sizes)
            fh.seek(pos)
            pos += 16 if fh.read(4) == b"PK\x07\x08" else 12
    if pos != cd_offset:
        return "bytes between the last member and the central directory"
    return None


def _hash_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, keep: bool) -> tuple[str, int, bytes]:
    """SHA-256 and length of a member, read in 1 MiB pieces (and its bytes, if ``keep``)."""
    h, n, parts = hashlib.sha256(), 0, []
    with zf.open(info) as src:
        while True:
            block = src.read(_READ)
            if not block:
                break
            h.update(block)
            n += len(block)
            if keep:
                parts.append(block)
    return h.hexdigest(), n, b"".join(parts)


class _Manifest(BaseModel):
    """The shape a manifest must have before anything in it is used (a self-signed forgery can be any JSON)."""

    model_config = ConfigDict(extra="allow")

    class _Signer(BaseModel):
        model_config = ConfigDict(extra="allow")
        name: str = ""
        key_id: str
        public_key: str

    class _File(BaseModel):
        model_config = ConfigDict(extra="allow")
        sha256: str
        bytes: int

    class _Chain(BaseModel):
        model_config = ConfigDict(extra="allow")
        session_id: str
        member: str
        records: int
        head_hash: Optional[str] = None

    format: str
    created_utc: str = ""
    signer: _Signer
    files: dict[str, _File]
    chains: list[_Chain] = Field(default_factory=list)


def _date_of(text: str) -> Optional[date]:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except (ValueError, TypeError, AttributeError):
        return None


def verify_bundle(path: Path | str, office_keys: Optional[OfficeKeys] = None, office_keys_path: Optional[str] = None,
                  *, limits: BundleLimits = LIMITS, today: Optional[date] = None) -> VerifyReport:
    """Check a bundle: ZIP layout and sizes, signature, every member's SHA-256, every hash chain, the signer's key.

    Nothing is decompressed before the central directory has been checked against ``limits``;
    members are hashed as they stream. ``today`` (UTC date) is when the key's validity is judged."""
    rep = VerifyReport(path=str(path), office_keys=office_keys_path)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size >= _EOCD.size:  # refuse a member flood before zipfile parses its central directory
                fh.seek(size - _EOCD.size)
                end = _EOCD.unpack(fh.read(_EOCD.size))
                if end[0] == b"PK\x05\x06" and end[4] > limits.max_members and end[4] != 0xFFFF:
                    return _fail(rep, None, f"{end[4]} members, more than the {limits.max_members} a bundle may have")
            try:
                zf = zipfile.ZipFile(fh)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:  # version, method
                return _fail(rep, None, f"{path}: not a readable ZIP file ({exc})")
            with zf:
                return _verify_open(rep, zf, fh, size, office_keys, office_keys_path, limits, today)
    except OSError as exc:
        return _fail(rep, None, f"{path}: not a readable ZIP file ({exc.strerror or exc})")


def _verify_open(rep: VerifyReport, zf: zipfile.ZipFile, fh, size: int, office_keys: Optional[OfficeKeys],
                 office_keys_path: Optional[str], limits: BundleLimits, today: Optional[date]) -> VerifyReport:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        return _fail(rep, None, f"{len(infos)} members, more than the {limits.max_members} a bundle may have")
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            return _fail(rep, info.filename, f"member {_q(info.filename)}: appears twice in the ZIP")
        seen.add(info.filename)
    problem = _layout_problem(fh, size, infos)
    if problem:
        return _fail(rep, None, f"not a bundle as Qamtu writes it: {problem}")
    total = 0
    for info in infos:
        if info.file_size > limits.max_member_bytes:
            return _fail(rep, info.filename, f"member {_q(info.filename)}: declares {info.file_size} bytes, more "
                                             f"than the {limits.max_member_bytes} one member may have")
        if info.filename in META_MEMBERS + ("signer.pub",) and info.file_size > limits.max_json_bytes:
            return _fail(rep, info.filename, f"member {_q(info.filename)}: declares {info.file_size} bytes, more "
                                             f"than the {limits.max_json_bytes} it may have")
        total += info.file_size
    if total > limits.max_total_bytes:
        return _fail(rep, None, f"members declare {total} bytes in all, more than the {limits.max_total_bytes} a "
                                "bundle may have (a ZIP bomb?)")
    by_name = {i.filename: i for i in infos}
    small: dict[str, bytes] = {}
    for small_name in (*META_MEMBERS, "signer.pub"):
        if small_name not in by_name:
            if small_name == "signer.pub":
                continue
            return _fail(rep, small_name, f"member {small_name}: missing")
        try:
            small[small_name] = zf.read(by_name[small_name])
        except Exception as exc:  # CRC mismatch, corrupt deflate stream, bad local header
            return _fail(rep, small_name, f"member {small_name}: cannot be read intact ({type(exc).__name__}: {exc})")
    try:
        sig = json.loads(small["manifest.sig"].decode("utf-8"))
        signature = base64.b64decode(sig["signature"], validate=True)
        signed_digest = str(sig["manifest_sha256"])
        sig_kid = str(sig["key_id"])
    except Exception as exc:
        return _fail(rep, "manifest.sig", f"member manifest.sig: not a valid signature file "
                                          f"({type(exc).__name__}: {exc})")
    if small["manifest.sig"] != _json_bytes(_sig_record(signed_digest, signature, sig_kid)):
        return _fail(rep, "manifest.sig", "member manifest.sig: not in the form Qamtu writes "
                                          "(a field of it was altered)")
    actual = hashlib.sha256(small["manifest.json"]).hexdigest()
    try:
        raw_manifest = json.loads(small["manifest.json"].decode("utf-8"))
        manifest = _Manifest.model_validate(raw_manifest)
        pub = public_from_b64(manifest.signer.public_key)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        return _fail(rep, "manifest.json", f"member manifest.json: not a valid manifest: field {where}: {err['msg']}")
    except Exception as exc:
        return _fail(rep, "manifest.json", f"member manifest.json: not a valid manifest ({type(exc).__name__}: {exc})")
    signer = manifest.signer
    rep.signer = {"name": signer.name, "key_id": signer.key_id, "public_key": signer.public_key,
                  "claimed_name": signer.name}

    def signed(digest: str) -> bool:
        return verify_signature(pub, signature, SIGNED_PREFIX + digest.encode("ascii", "replace"))

    if actual == signed_digest:  # the manifest is the one the signature file speaks of: any fault is the signature's
        if key_id(pub) != signer.key_id:
            return _fail(rep, "manifest.json", "member manifest.json: signer key_id does not match its public key")
        if sig_kid != signer.key_id:
            return _fail(rep, "manifest.sig", "member manifest.sig: key_id differs from the manifest's signer")
        if not signed(signed_digest):
            return _fail(rep, "manifest.sig", "member manifest.sig: the Ed25519 signature does not verify with the "
                                              "signer's key (signature altered, or made by another key)")
    elif signed(signed_digest):
        return _fail(rep, "manifest.json", f"member manifest.json: SHA-256 {actual[:16]}… differs from the signed "
                                           f"{_q(signed_digest[:16])}… (manifest altered after signing)")
    elif signed(actual) and sig_kid == signer.key_id:
        return _fail(rep, "manifest.sig", "member manifest.sig: the signed digest was altered")
    else:
        return _fail(rep, "manifest.json", f"member manifest.json: SHA-256 {actual[:16]}… differs from the signed "
                                           f"{_q(signed_digest[:16])}… and the signature does not verify with its key "
                                           "(manifest or its signer altered)")
    files = manifest.files
    for info in infos:
        if info.filename not in files and info.filename not in META_MEMBERS:
            return _fail(rep, info.filename, f"member {_q(info.filename)}: not listed in the manifest "
                                             f"(added after signing)")
    chain_members = {c.member for c in manifest.chains}
    kept: dict[str, bytes] = {}
    for name, meta in sorted(files.items()):
        if name not in by_name:
            return _fail(rep, name, f"member {_q(name)}: listed in the manifest but missing from the bundle")
        info = by_name[name]
        if info.file_size != meta.bytes:
            return _fail(rep, name, f"member {_q(name)}: {info.file_size} bytes, the manifest says {meta.bytes} "
                                    f"(altered)")
        keep = name in chain_members
        if keep and info.file_size > limits.max_records_bytes:
            return _fail(rep, name, f"member {_q(name)}: records file of {info.file_size} bytes, more than the "
                                    f"{limits.max_records_bytes} that can be checked")
        try:
            got, n, blob = _hash_member(zf, info, keep)
        except Exception as exc:  # CRC mismatch, corrupt deflate stream, bad local header
            return _fail(rep, name, f"member {_q(name)}: cannot be read intact ({type(exc).__name__}: {exc})")
        if got != meta.sha256 or n != meta.bytes:
            return _fail(rep, name, f"member {_q(name)}: SHA-256 {got[:16]}… does not match the manifest's "
                                    f"{_q(meta.sha256[:16])}… (altered)")
        if keep:
            kept[name] = blob
        rep.checked_files += 1
    if "signer.pub" in small:
        try:
            pem_pub = serialization.load_pem_public_key(small["signer.pub"])
            # an Ed25519 key: another kind with the same raw bytes (X25519) is not the signer's key
            same = isinstance(pem_pub, Ed25519PublicKey) and public_b64(pem_pub) == signer.public_key
        except Exception:
            same = False
        if not same:
            return _fail(rep, "signer.pub", "member signer.pub: not the key named in the manifest")
    for chain in manifest.chains:
        member = chain.member
        if member not in kept:
            return _fail(rep, member, f"member {_q(member)}: chain file missing")
        try:
            rows = [json.loads(line) for line in kept[member].decode("utf-8").splitlines() if line.strip()]
            tuples = [(r["seq"], r["record_id"], r["kind"], r["time_utc"], r["payload"], r["prev_hash"], r["hash"])
                      for r in rows]
            report = verify_rows(chain.session_id, tuples)
        except Exception as exc:
            return _fail(rep, member, f"member {_q(member)}: not a records file ({type(exc).__name__}: {exc})")
        if not report.ok:
            return _fail(rep, member, f"member {_q(member)}: hash chain broken at record {report.broken_at}: "
                                      f"{_q(report.reason)}")
        if report.head_hash != chain.head_hash or report.records != chain.records:
            return _fail(rep, member, f"member {_q(member)}: chain head {str(report.head_hash)[:16]}… "
                                      f"({report.records} records) differs from the manifest's "
                                      f"{_q(str(chain.head_hash)[:16])}…")
        rep.checked_chains += 1
    rep.intact = True
    return _check_trust(rep, manifest, office_keys, office_keys_path, today)


def _check_trust(rep: VerifyReport, manifest: _Manifest, office_keys: Optional[OfficeKeys],
                 office_keys_path: Optional[str], today: Optional[date]) -> VerifyReport:
    """Is the signing key in the office list, and was it valid when the bundle says it was made (and today)?"""
    signer = manifest.signer
    keys = office_keys.keys if office_keys is not None else []
    where = office_keys_path or "the office key list"
    match = [k for k in keys if k.key_id == signer.key_id and k.public_key == signer.public_key]
    if not match:
        return _fail(rep, "manifest.sig", f"signed by key {_q(signer.key_id)} (claimed name {_q(signer.name)!r}), "
                                          f"which is NOT in the office key list {where}: intact, but the signer is "
                                          f"not trusted; add the entry printed by `qamtu keys new` to "
                                          f"office_keys.toml in --registers, or pass --office-keys")
    entry = match[0]
    rep.signer["name"] = entry.name  # the office's name for the key, never the claimed one
    created = _date_of(manifest.created_utc)
    today = today or datetime.now(timezone.utc).date()
    if created is None:
        return _fail(rep, "manifest.json", f"member manifest.json: created_utc {_q(manifest.created_utc)!r} is not a "
                                           "time; the key's validity cannot be checked")
    if created > today + timedelta(days=1):
        return _fail(rep, "manifest.json", f"member manifest.json: created {created.isoformat()}, after today "
                                           f"({today.isoformat()}): a clock error or a forgery")
    valid_from = date.fromisoformat(entry.valid_from) if entry.valid_from else None
    valid_to = date.fromisoformat(entry.valid_to) if entry.valid_to else None
    if valid_from and created < valid_from:
        return _fail(rep, "manifest.sig", f"signed on {created.isoformat()} by key {entry.key_id} ({_q(entry.name)}), "
                                          f"which is valid only from {entry.valid_from} in {where}: not trusted")
    if valid_to and created > valid_to:
        return _fail(rep, "manifest.sig", f"signed on {created.isoformat()} by key {entry.key_id} ({_q(entry.name)}), "
                                          f"which was valid only until {entry.valid_to} in {where}: not trusted")
    rep.trusted = True
    return rep


def bundle_inspection(store, inspection_id: str, out: Path | str, *, key_path: Path | str, signer: str, rules,
                      registers, gazetteer=None, issue_date=None, deadline_days=None,
                      templates=None) -> dict[str, Any]:
    """Findings, documents (kk and ru, in a temporary folder) and the signed bundle, in one call."""
    from .documents import generate_documents
    from .findings import compute_findings

    load_private(key_path)  # refuse early: a bad key must not cost the documents
    findings = compute_findings(store, inspection_id, rules, registers)
    with tempfile.TemporaryDirectory(prefix="qamtu-docs-") as tmp:
        docs = generate_documents(store, inspection_id, tmp, rules=rules, registers=registers, gazetteer=gazetteer,
                                  issue_date=issue_date, deadline_days=deadline_days, templates=templates,
                                  findings=findings)
        return build_bundle(store, inspection_id, out, key_path=key_path, signer=signer, rules=rules,
                            registers=registers, findings=findings, documents=docs)
