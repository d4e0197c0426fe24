"""The tables of the cases package, as migrations registered with the store (owner ``cases``).

Personal data lives only in ``cases_applicants``; every other table holds case facts. Links between
the tables are kept by the code, which writes them in one transaction (no per-row foreign keys, as
for the other owners' tables on PostgreSQL). The history
table is append-only: triggers refuse UPDATE and DELETE in both databases, and each row carries the
hash chain of its case (:mod:`qamtu.cases.history`). Append new migrations, never edit one.
"""

from __future__ import annotations

OWNER = "cases"

_TABLES = """
CREATE TABLE cases_complaints (
    complaint_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    external_number TEXT NOT NULL,
    received TEXT NOT NULL,
    registered_utc TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    language TEXT NOT NULL,
    kato TEXT,
    district_kato TEXT,
    needs_person INTEGER NOT NULL,
    operators TEXT NOT NULL,
    services TEXT NOT NULL,
    facts TEXT NOT NULL,
    extended_until TEXT,
    extension_decided TEXT,
    redirected_to TEXT,
    answered_on TEXT,
    demo INTEGER NOT NULL DEFAULT 0,
    UNIQUE (channel, external_number)
);
CREATE INDEX cases_complaints_received ON cases_complaints (received);
CREATE TABLE cases_applicants (
    complaint_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    iin TEXT NOT NULL,
    postal_address TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE TABLE cases_cases (
    case_id TEXT PRIMARY KEY,
    kato TEXT NOT NULL,
    district_kato TEXT,
    operator TEXT NOT NULL,
    service TEXT NOT NULL,
    opened TEXT NOT NULL,
    last_received TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    fields TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    demo INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cases_cases_key ON cases_cases (kato, operator, service);
CREATE TABLE cases_case_complaints (
    case_id TEXT NOT NULL,
    complaint_id TEXT NOT NULL,
    PRIMARY KEY (case_id, complaint_id)
);
CREATE TABLE cases_case_inspections (
    case_id TEXT NOT NULL,
    inspection_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (case_id, inspection_id)
);
CREATE TABLE cases_history (
    case_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    time_utc TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE TABLE cases_answers (
    complaint_id TEXT PRIMARY KEY,
    answer_number TEXT NOT NULL UNIQUE,
    lang TEXT NOT NULL,
    issued TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    files TEXT NOT NULL
);
CREATE TABLE cases_pd_exports (
    export_id TEXT PRIMARY KEY,
    time_utc TEXT NOT NULL,
    actor TEXT NOT NULL,
    what TEXT NOT NULL,
    target TEXT NOT NULL,
    n_rows INTEGER NOT NULL,
    purpose TEXT NOT NULL
);
"""

SQLITE_1 = _TABLES + """
CREATE TRIGGER cases_history_no_update BEFORE UPDATE ON cases_history
BEGIN SELECT RAISE(ABORT, 'cases_history is append-only'); END;
CREATE TRIGGER cases_history_no_delete BEFORE DELETE ON cases_history
BEGIN SELECT RAISE(ABORT, 'cases_history is append-only'); END;
CREATE TRIGGER cases_pd_exports_no_update BEFORE UPDATE ON cases_pd_exports
BEGIN SELECT RAISE(ABORT, 'cases_pd_exports is append-only'); END;
CREATE TRIGGER cases_pd_exports_no_delete BEFORE DELETE ON cases_pd_exports
BEGIN SELECT RAISE(ABORT, 'cases_pd_exports is append-only'); END;
"""

POSTGRESQL_1 = _TABLES + """
CREATE FUNCTION cases_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
CREATE TRIGGER cases_history_append_only BEFORE UPDATE OR DELETE ON cases_history
FOR EACH ROW EXECUTE FUNCTION cases_append_only();
CREATE TRIGGER cases_pd_exports_append_only BEFORE UPDATE OR DELETE ON cases_pd_exports
FOR EACH ROW EXECUTE FUNCTION cases_append_only();
"""

#: (number, name, SQLite text, PostgreSQL text), in order
MIGRATIONS: tuple[tuple[int, str, str, str], ...] = (
    (1, "complaints, cases, history, answers", SQLITE_1, POSTGRESQL_1),
)

try:
    from ..store import Migration, register_migrations
except ImportError:  # pragma: no cover - before the public store package is merged (temporary)
    register_migrations = None  # type: ignore[assignment]
if register_migrations is not None:
    register_migrations(OWNER, [Migration(OWNER, n, lite, pg, name=name) for n, name, lite, pg in MIGRATIONS])
