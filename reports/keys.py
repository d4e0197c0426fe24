"""Ed25519 signing keys of inspectors, and the office key list they are checked against.

``qamtu keys new`` writes ``NAME.key`` (PKCS#8 PEM, created with permissions 0600, never
overwritten) and ``NAME.pub`` (SubjectPublicKeyInfo PEM), and prints the entry to add to the office
key list (``office_keys.toml`` in the registers). The key id is the first 16 hex digits of the
SHA-256 of the 32-byte raw public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import load_model
from ..safeio import atomic_output, write_bytes
from .errors import ReportError
from .registers import OfficeKeys, RegisterError, load_file


class KeyFileError(ReportError):
    """A key file is missing, malformed, too open, or would be overwritten."""


def raw_public(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(pub: Ed25519PublicKey | bytes) -> str:
    raw = pub if isinstance(pub, bytes) else raw_public(pub)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_b64(pub: Ed25519PublicKey) -> str:
    return base64.b64encode(raw_public(pub)).decode("ascii")


def public_from_b64(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"not a base64 Ed25519 public key ({exc})") from None


def _safe_name(name: str) -> str:
    slug = re.sub(r"[^\w.-]+", "-", name.strip()).strip("-.")  # \w: Unicode letters (Cyrillic names) too
    if not slug:
        raise KeyFileError(f"key name {name!r}: give letters or digits (used for the file name)")
    return slug


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped, so a name
    cannot end the string or add lines (entries) to the office key list."""
    body = json.dumps(text, ensure_ascii=False)[1:-1]  # JSON escapes are TOML escapes (\" \\ \n \uXXXX)
    return '"' + re.sub("[\x7f-\x9f]", lambda m: f"\\u{ord(m.group(0)):04x}", body) + '"'


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 (never wider, whatever the umask), all or nothing."""
    with atomic_output(path, mode=0o600, what="private key") as tmp:  # mkstemp creates it 0600
        with open(tmp, "wb") as fh:
            fh.write(data)


def new_key(name: str, out_dir: Path | str) -> dict[str, Any]:
    """Generate a key pair for ``name`` in ``out_dir``; returns paths, key id and the office-list entry."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KeyFileError(f"{out}: cannot create the key folder ({exc.strerror or exc})") from None
    slug = _safe_name(name)
    priv_path, pub_path = out / f"{slug}.key", out / f"{slug}.pub"
    for p in (priv_path, pub_path):
        if p.exists():
            raise KeyFileError(f"{p}: already exists; Qamtu never overwrites a key "
                               f"(move it away or choose another name)")
    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    _write_private(priv_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    write_bytes(pub_path, pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
                what="public key")
    entry = (f"[[keys]]\nname = {toml_string(name)}\nkey_id = \"{key_id(pub)}\"\npublic_key = \"{public_b64(pub)}\"\n"
             f"valid_from = \"{datetime.now(timezone.utc).date().isoformat()}\"\n")
    return {"name": name, "private_key": str(priv_path), "public_key_file": str(pub_path), "key_id": key_id(pub),
            "public_key": public_b64(pub), "office_list_entry": entry}


def load_private(path: Path | str) -> Ed25519PrivateKey:
    """Read a private key written by :func:`new_key`; refuse one that others can read (POSIX)."""
    p = Path(path)
    if not p.exists():
        raise KeyFileError(f"{p}: no such private key (create one with `qamtu keys new`)")
    if os.name == "posix":
        mode = stat.S_IMODE(p.stat().st_mode)
        if mode & 0o077:
            raise KeyFileError(f"{p}: private key is readable by others (mode {mode:04o}); run chmod 600 {p}")
    try:
        key = serialization.load_pem_private_key(p.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{p}: not a PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{p}: not an Ed25519 key")
    return key


def load_office_keys(path: Optional[Path | str] = None,
                     registers_dir: Optional[Path | str] = None) -> tuple[OfficeKeys, Path]:
    """The office key list from ``path``, else from the registers folder (or the bundled empty list)."""
    if path is None:
        return load_file("office_keys", registers_dir)
    p = Path(path)
    return load_model(p, OfficeKeys, RegisterError, "office key list"), p


def verify_signature(pub: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        pub.verify(signature, message)
        return True
    except InvalidSignature:
        return False
