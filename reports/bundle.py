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
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from cryptography.hazmat.primitives import serialization

from .. import __version__
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
    return df.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _geojson(df) -> bytes:
    feats = []
    for row in df.to_dict(orient="records"):
        lat, lon = row.get("lat"), row.get("lon")
        props = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        geom = None if lat is None or lon is None or lat != lat or lon != lon else {"type": "Point", "coordinates": [lon, lat]}
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    return (json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, default=str) + "\n").encode("utf-8")


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


def bundle_members(store, inspection_id: str, rules, registers, findings: dict, documents: dict[str, Path]) -> tuple[dict[str, bytes], list[dict]]:
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
        lines = [canonical_json({k: r[k] for k in ("seq", "record_id", "kind", "time_utc", "payload", "prev_hash", "hash")})
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
    members["signer.pub"] = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    manifest = {
        "format": FORMAT, "inspection_id": inspection_id, "created_utc": time_text(datetime.now(timezone.utc)),
        "qamtu_version": __version__,
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for name, data in sorted(members.items())},
        "chains": chains,
        "signer": {"name": signer, "key_id": key_id(pub), "public_key": public_b64(pub), "algorithm": "Ed25519"},
        "rule_set": rules.describe(), "registers": registers.versions(),
    }
    manifest_bytes = _json_bytes(manifest)
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    signature = key.sign(SIGNED_PREFIX + digest.encode("ascii"))
    sig = _sig_record(digest, signature, key_id(pub))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".partial-", suffix=".zip", dir=out.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in sorted(members.items()):
                zf.writestr(name, data)
            zf.writestr("manifest.json", manifest_bytes)
            zf.writestr("manifest.sig", _json_bytes(sig))
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"path": str(out), "members": len(members) + 2, "manifest_sha256": digest, "key_id": key_id(pub),
            "signer": signer, "chains": chains}


# ---------------------------------------------------------------------------------------- verify
@dataclass
class VerifyReport:
    """Outcome of :func:`verify_bundle`. ``ok`` means intact AND signed by a key in the office list."""

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
        return {**self.__dict__, "ok": self.ok}


def _fail(rep: VerifyReport, member: Optional[str], problem: str) -> VerifyReport:
    rep.member, rep.problem = member, problem
    return rep


def verify_bundle(path: Path | str, office_keys: Optional[OfficeKeys] = None, office_keys_path: Optional[str] = None) -> VerifyReport:
    """Check a bundle: ZIP integrity, signature, every member's SHA-256, every hash chain, the signer's key."""
    rep = VerifyReport(path=str(path), office_keys=office_keys_path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return _fail(rep, None, f"{path}: not a readable ZIP file ({exc})")
    data: dict[str, bytes] = {}
    with zf:
        names = zf.namelist()
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            return _fail(rep, dup, f"member {dup}: appears twice in the ZIP")
        for info in zf.infolist():
            try:
                data[info.filename] = zf.read(info)
            except Exception as exc:  # CRC mismatch, corrupt deflate stream, bad local header
                return _fail(rep, info.filename, f"member {info.filename}: cannot be read intact ({type(exc).__name__}: {exc})")
    for meta in META_MEMBERS:
        if meta not in data:
            return _fail(rep, meta, f"member {meta}: missing")
    try:
        sig = json.loads(data["manifest.sig"].decode("utf-8"))
        signature = base64.b64decode(sig["signature"], validate=True)
        signed_digest = str(sig["manifest_sha256"])
        sig_kid = str(sig["key_id"])
    except Exception as exc:
        return _fail(rep, "manifest.sig", f"member manifest.sig: not a valid signature file ({type(exc).__name__}: {exc})")
    if data["manifest.sig"] != _json_bytes(_sig_record(signed_digest, signature, sig_kid)):
        return _fail(rep, "manifest.sig", "member manifest.sig: not in the form Qamtu writes (a field of it was altered)")
    actual = hashlib.sha256(data["manifest.json"]).hexdigest()
    try:
        manifest = json.loads(data["manifest.json"].decode("utf-8"))
        signer = manifest["signer"]
        pub = public_from_b64(signer["public_key"])
    except Exception as exc:
        return _fail(rep, "manifest.json", f"member manifest.json: not a valid manifest ({type(exc).__name__}: {exc})")
    rep.signer = {k: signer.get(k) for k in ("name", "key_id", "public_key")}

    def signed(digest: str) -> bool:
        return verify_signature(pub, signature, SIGNED_PREFIX + digest.encode("ascii"))

    if actual == signed_digest:  # the manifest is the one the signature file speaks of: any fault is the signature's
        if key_id(pub) != signer.get("key_id"):
            return _fail(rep, "manifest.json", "member manifest.json: signer key_id does not match its public key")
        if sig_kid != signer.get("key_id"):
            return _fail(rep, "manifest.sig", "member manifest.sig: key_id differs from the manifest's signer")
        if not signed(signed_digest):
            return _fail(rep, "manifest.sig", "member manifest.sig: the Ed25519 signature does not verify with the "
                                              "signer's key (signature altered, or made by another key)")
    elif signed(signed_digest):
        return _fail(rep, "manifest.json", f"member manifest.json: SHA-256 {actual[:16]}… differs from the signed "
                                           f"{signed_digest[:16]}… (manifest altered after signing)")
    elif signed(actual) and sig_kid == signer.get("key_id"):
        return _fail(rep, "manifest.sig", "member manifest.sig: the signed digest was altered")
    else:
        return _fail(rep, "manifest.json", f"member manifest.json: SHA-256 {actual[:16]}… differs from the signed "
                                           f"{signed_digest[:16]}… and the signature does not verify with its key "
                                           "(manifest or its signer altered)")
    files = manifest.get("files", {})
    for name in names:
        if name not in files and name not in META_MEMBERS:
            return _fail(rep, name, f"member {name}: not listed in the manifest (added after signing)")
    for name, meta in sorted(files.items()):
        if name not in data:
            return _fail(rep, name, f"member {name}: listed in the manifest but missing from the bundle")
        got = hashlib.sha256(data[name]).hexdigest()
        if got != meta.get("sha256") or len(data[name]) != meta.get("bytes"):
            return _fail(rep, name, f"member {name}: SHA-256 {got[:16]}… does not match the manifest's "
                                    f"{str(meta.get('sha256'))[:16]}… (altered)")
        rep.checked_files += 1
    if "signer.pub" in data:
        try:
            pem_pub = serialization.load_pem_public_key(data["signer.pub"])
            same = public_b64(pem_pub) == signer["public_key"]
        except Exception:
            same = False
        if not same:
            return _fail(rep, "signer.pub", "member signer.pub: not the key named in the manifest")
    for chain in manifest.get("chains", []):
        member = chain.get("member")
        if member not in data:
            return _fail(rep, member, f"member {member}: chain file missing")
        try:
            rows = [json.loads(line) for line in data[member].decode("utf-8").splitlines() if line.strip()]
            tuples = [(r["seq"], r["record_id"], r["kind"], r["time_utc"], r["payload"], r["prev_hash"], r["hash"]) for r in rows]
        except Exception as exc:
            return _fail(rep, member, f"member {member}: not a records file ({type(exc).__name__}: {exc})")
        report = verify_rows(chain["session_id"], tuples)
        if not report.ok:
            return _fail(rep, member, f"member {member}: hash chain broken at record {report.broken_at}: {report.reason}")
        if report.head_hash != chain.get("head_hash") or report.records != chain.get("records"):
            return _fail(rep, member, f"member {member}: chain head {report.head_hash[:16]}… ({report.records} records) "
                                      f"differs from the manifest's {str(chain.get('head_hash'))[:16]}…")
        rep.checked_chains += 1
    rep.intact = True
    keys = office_keys.keys if office_keys is not None else []
    match = [k for k in keys if k.key_id == signer.get("key_id") and k.public_key == signer.get("public_key")]
    if not match:
        where = office_keys_path or "the office key list"
        return _fail(rep, "manifest.sig", f"signed by key {signer.get('key_id')} ({signer.get('name')}), which is NOT in "
                                          f"the office key list {where}: intact, but the signer is not trusted; "
                                          f"add the entry printed by `qamtu keys new` to office_keys.toml in "
                                          f"--registers, or pass --office-keys")
    rep.trusted = True
    return rep


def bundle_inspection(store, inspection_id: str, out: Path | str, *, key_path: Path | str, signer: str, rules, registers,
                      gazetteer=None, issue_date=None, deadline_days=None, templates=None) -> dict[str, Any]:
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
