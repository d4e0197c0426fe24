"""Staff accounts, web sessions, Open311 API keys and the audit log, in the store.

- Passwords: argon2id (:mod:`argon2`, RFC 9106 low-memory profile: 64 MiB, 3 passes), never logged.
- Sessions: a random 256-bit token in an HttpOnly cookie; the store keeps only its SHA-256, the user,
  a per-session CSRF token and the expiry (:data:`SESSION_HOURS`). Signing out deletes the row.
- API keys: ``q311_`` + 256 random bits, printed once; the store keeps only its SHA-256 (a key that
  long needs no slow hash).
- Audit: every staff action is one insert into ``office_audit`` (insert-only, triggers refuse
  UPDATE/DELETE). Details hold ids and states, never personal data.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, TypedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from . import schema  # noqa: F401  (registers the migrations)
from .errors import AuthError, OfficeError

#: The roles, lowest first. What each may do is declared per route (office/routes.py, docs/office.md).
ROLES: tuple[str, ...] = ("inspector", "desk", "head", "admin")
#: Hours a web session lasts from sign-in.
SESSION_HOURS = 12
#: Shortest password accepted (characters).
MIN_PASSWORD = 10
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


class SessionUser(TypedDict):
    """The signed-in staff member of a web session (:func:`session_user`)."""

    name: str
    #: one of :data:`ROLES`
    role: str
    #: the session's CSRF token
    csrf: str


_hasher = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
#: A hash verified against when the user does not exist, so that timing does not tell names apart.
_DUMMY = _hasher.hash("qamtu-no-such-user")


def now_text(now: Optional[datetime] = None) -> str:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_name(name: str, what: str = "user name") -> str:
    name = name.strip().lower()
    if not (2 <= len(name) <= 40) or not set(name) <= NAME_CHARS:
        raise OfficeError(f"{what} {name!r}: use 2-40 characters a-z, 0-9, '.', '_' or '-'")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise OfficeError(f"--role {role!r}: choose from {', '.join(ROLES)}")
    return role


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise OfficeError(f"password: at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


# ------------------------------------------------------------------------------------ users
def add_user(store, name: str, role: str, password: str, *, by: str = "cli", demo: bool = False) -> dict[str, Any]:
    """Create a staff account (refused when the name exists); audited."""
    name, role = check_name(name), check_role(role)
    digest = hash_password(password)
    with store.transaction(f"adding office user {name}") as tx:
        if tx.query("SELECT 1 FROM office_users WHERE name = ?", (name,)):
            raise OfficeError(f"user {name!r} exists (change the role on the users page, or pick another name)")
        t = now_text()
        tx.execute("INSERT INTO office_users (name, role, password_hash, active, demo, created_utc, updated_utc) "
                   "VALUES (?, ?, ?, 1, ?, ?, ?)", (name, role, digest, int(demo), t, t))
        audit(tx, by, "admin" if by != "cli" else "cli", "user_added", name, {"role": role, "demo": demo})
    return {"name": name, "role": role}


def set_role(store, name: str, role: str, active: bool, *, by: str, by_role: str) -> None:
    """Change a user's role or active flag (ends their sessions when deactivated); audited."""
    check_role(role)
    with store.transaction(f"changing office user {name}") as tx:
        if not tx.query("SELECT 1 FROM office_users WHERE name = ?", (name,)):
            raise OfficeError(f"no user {name!r}")
        tx.execute("UPDATE office_users SET role = ?, active = ?, updated_utc = ? WHERE name = ?",
                   (role, int(active), now_text(), name))
        if not active:
            tx.execute("DELETE FROM office_sessions WHERE user_name = ?", (name,))
        audit(tx, by, by_role, "user_changed", name, {"role": role, "active": active})


def users(store) -> list[dict[str, Any]]:
    return store.query("SELECT name, role, active, demo, created_utc, updated_utc FROM office_users ORDER BY name")


def authenticate(store, name: str, password: str) -> dict[str, Any]:
    """The user row when ``password`` is right, else :class:`AuthError` (same message either way)."""
    rows = store.query("SELECT name, role, password_hash, active FROM office_users WHERE name = ?",
                       (name.strip().lower(),))
    digest = rows[0]["password_hash"] if rows else _DUMMY
    try:
        _hasher.verify(digest, password)
        ok = bool(rows) and bool(rows[0]["active"])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise AuthError("wrong user name or password")
    if _hasher.check_needs_rehash(digest):
        store.execute("UPDATE office_users SET password_hash = ? WHERE name = ?",
                      (_hasher.hash(password), rows[0]["name"]))
    return {"name": rows[0]["name"], "role": rows[0]["role"]}


# ------------------------------------------------------------------------------------ sessions
def open_session(store, user: str, now: Optional[datetime] = None) -> tuple[str, str]:
    """A new session for ``user``: (cookie token, CSRF token). Only the token's SHA-256 is stored."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    t = now or datetime.now(timezone.utc)
    with store.transaction("opening a web session") as tx:
        tx.execute("DELETE FROM office_sessions WHERE expires_utc < ?", (now_text(t),))
        tx.execute("INSERT INTO office_sessions (token_sha256, user_name, csrf, created_utc, expires_utc) "
                   "VALUES (?, ?, ?, ?, ?)", (sha256(token), user, csrf, now_text(t),
                                               now_text(t + timedelta(hours=SESSION_HOURS))))
    return token, csrf


def session_user(store, token: str) -> Optional[SessionUser]:
    """``{"name", "role", "csrf"}`` of a live session of an active user, else None."""
    if not token or len(token) > 100:
        return None
    rows = store.query("SELECT u.name, u.role, s.csrf, s.expires_utc FROM office_sessions s JOIN office_users u "
                       "ON u.name = s.user_name WHERE s.token_sha256 = ? AND u.active = 1", (sha256(token),))
    if not rows or rows[0]["expires_utc"] < now_text():
        return None
    return {"name": rows[0]["name"], "role": rows[0]["role"], "csrf": rows[0]["csrf"]}


def close_session(store, token: str) -> None:
    store.execute("DELETE FROM office_sessions WHERE token_sha256 = ?", (sha256(token),))


# ------------------------------------------------------------------------------------ API keys
def add_key(store, name: str, *, by: str = "cli") -> str:
    """Create an Open311 API key named ``name``; returns the key (shown once, only its hash is kept)."""
    name = check_name(name, "key name")
    key = "q311_" + secrets.token_urlsafe(32)
    with store.transaction(f"adding API key {name}") as tx:
        if tx.query("SELECT 1 FROM office_api_keys WHERE name = ?", (name,)):
            raise OfficeError(f"API key {name!r} exists (pick another name)")
        tx.execute("INSERT INTO office_api_keys (name, key_sha256, created_utc, created_by) VALUES (?, ?, ?, ?)",
                   (name, sha256(key), now_text(), by))
        audit(tx, by, "cli", "api_key_added", name, {})
    return key


def key_name(store, key: str) -> Optional[str]:
    """The name of a live API key, else None."""
    if not key or len(key) > 100:
        return None
    rows = store.query("SELECT name FROM office_api_keys WHERE key_sha256 = ? AND revoked_utc IS NULL", (sha256(key),))
    return rows[0]["name"] if rows else None


# ------------------------------------------------------------------------------------ audit
def audit(q, actor: str, role: str, action: str, target: str, detail: dict[str, Any]) -> None:
    """Append one staff action to ``office_audit`` (``q``: the store or an open transaction)."""
    q.execute("INSERT INTO office_audit (audit_id, time_utc, actor, role, action, target, detail) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)",
              (str(uuid.uuid4()), now_text(), actor, role, action, target,
               json.dumps(detail, ensure_ascii=False, sort_keys=True)))


def audit_log(store, limit: int = 200) -> list[dict[str, Any]]:
    return store.query("SELECT time_utc, actor, role, action, target, detail FROM office_audit "
                       "ORDER BY time_utc DESC, audit_id LIMIT ?", (int(limit),))
