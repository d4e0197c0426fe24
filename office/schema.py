"""The office's tables, as migrations registered with the store (owner ``office``).

``office_users`` (name, role, argon2id hash), ``office_sessions`` (only the SHA-256 of each session
token is stored, with its CSRF token and expiry), ``office_api_keys`` (only the SHA-256 of each
Open311 key) and ``office_audit``, the append-only log of staff actions: triggers refuse UPDATE and
DELETE on both engines, as for ``cases_history``. Append new migrations, never edit one.
"""

from __future__ import annotations

OWNER = "office"

_TABLES = """
CREATE TABLE office_users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    demo INTEGER NOT NULL DEFAULT 0,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL
);
CREATE TABLE office_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    expires_utc TEXT NOT NULL
);
CREATE INDEX office_sessions_user ON office_sessions (user_name);
CREATE TABLE office_api_keys (
    name TEXT PRIMARY KEY,
    key_sha256 TEXT NOT NULL UNIQUE,
    created_utc TEXT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_utc TEXT
);
CREATE TABLE office_audit (
    audit_id TEXT PRIMARY KEY,
    time_utc TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX office_audit_time ON office_audit (time_utc);
"""

SQLITE_1 = _TABLES + """
CREATE TRIGGER office_audit_no_update BEFORE UPDATE ON office_audit
BEGIN SELECT RAISE(ABORT, 'office_audit is append-only'); END;
CREATE TRIGGER office_audit_no_delete BEFORE DELETE ON office_audit
BEGIN SELECT RAISE(ABORT, 'office_audit is append-only'); END;
"""

POSTGRESQL_1 = _TABLES + """
CREATE FUNCTION office_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
CREATE TRIGGER office_audit_append_only BEFORE UPDATE OR DELETE ON office_audit
FOR EACH ROW EXECUTE FUNCTION office_append_only();
"""

#: (number, name, SQLite text, PostgreSQL text), in order
MIGRATIONS: tuple[tuple[int, str, str, str], ...] = (
    (1, "users, sessions, API keys, audit log", SQLITE_1, POSTGRESQL_1),
)

from ..store import Migration, register_migrations  # noqa: E402

register_migrations(OWNER, [Migration(OWNER, n, lite, pg, name=name) for n, name, lite, pg in MIGRATIONS])
