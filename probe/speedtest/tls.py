"""TLS between the probe and ``qamtu server``: the office's own certificate, pinned by the probe.

The inspected operator carries every speed test. Over TLS it sees addresses, ports, timing and
volume, but not the paths, headers or the upload report in the answer, and it cannot rewrite that
report without the probe noticing (``docs/measurement-method.md``). There is no public CA in the
loop: the office makes a self-signed certificate once (:func:`make_self_signed`, or the openssl
recipe in the docs) and gives its SHA-256 fingerprint to the probes, which refuse any other
certificate (``--param tls_pin_sha256=...``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import ssl
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

from ...safeio import write_bytes
from ..errors import ProtocolError, ProbeError

_PIN = re.compile(r"[0-9a-f]{64}")


class TlsSetupError(ProbeError):
    """A certificate or key file is missing or unusable, or a pin is malformed."""


def normalise_pin(pin: str) -> str:
    """A SHA-256 fingerprint as 64 lower-case hex digits (``AB:CD:...`` from openssl is accepted)."""
    text = pin.strip().lower().replace(":", "").removeprefix("sha256/").removeprefix("sha256=")
    if not _PIN.fullmatch(text):
        raise TlsSetupError(f"tls_pin_sha256 {pin!r}: give the certificate's SHA-256 fingerprint, 64 hex digits "
                            "(openssl x509 -noout -fingerprint -sha256 -in server.crt)")
    return text


def der_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def cert_fingerprint(cert_path: Path | str) -> str:
    """SHA-256 fingerprint (hex) of the first certificate in a PEM file: the value probes pin."""
    try:
        pem = Path(cert_path).read_text(encoding="ascii")
        return der_fingerprint(ssl.PEM_cert_to_DER_cert(pem))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise TlsSetupError(f"{cert_path}: not a readable PEM certificate ({exc})") from None


def make_self_signed(cert_path: Path | str, key_path: Path | str, names: list[str], days: int = 825) -> str:
    """Write a self-signed ECDSA P-256 certificate for ``names`` (DNS names or IP addresses) and its
    key (mode 0600); returns the SHA-256 fingerprint to pin. Never overwrites either file."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    for p in (cert_path, key_path):
        if Path(p).exists():
            raise TlsSetupError(f"{p}: already exists; Qamtu never overwrites a certificate or key")
    if not names:
        raise TlsSetupError("give at least one name (the server's host name or IP address)")
    sans: list[x509.GeneralName] = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    write_bytes(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()), mode=0o600, what="TLS key")
    write_bytes(cert_path, cert.public_bytes(serialization.Encoding.PEM), what="TLS certificate")
    return der_fingerprint(cert.public_bytes(serialization.Encoding.DER))


def server_context(cert_path: Path | str, key_path: Path | str) -> ssl.SSLContext:
    """The server's TLS context (TLS 1.2+)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(cert_path), str(key_path))
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupError(f"{cert_path} / {key_path}: cannot load the certificate and key ({exc})") from None
    return ctx


def client_context(pin: Optional[str]) -> ssl.SSLContext:
    """With a pin: any certificate is accepted by the handshake and :func:`check_pin` decides (the
    office's self-signed certificate). Without: the system's CAs and host name checks."""
    if not pin:
        return ssl.create_default_context()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def check_pin(ssl_object, pin: Optional[str], server: str, phase: str) -> None:
    """Raise :class:`ProtocolError` unless the peer's certificate has the pinned fingerprint."""
    if not pin or ssl_object is None:
        return
    der = ssl_object.getpeercert(binary_form=True)
    got = der_fingerprint(der) if der else "(no certificate)"
    if got != pin:
        raise ProtocolError(f"TLS certificate of {server} has SHA-256 {got}, not the pinned {pin}: another server "
                            "or an interception on the path; nothing was sent", phase=phase, server=server)
