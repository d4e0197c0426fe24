"""Tables and indexes of the public side of the office (owner ``office_public``): Open311 tokens, and
the indexes the public pages and the Open311 API read through.

``office_open311_tokens`` maps the opaque token an Open311 client gets back from ``POST
requests.json`` to the complaint it registered (the token is random: a talon number is never
published). The indexes sit on tables of the ``cases`` owner; they are here because the public
queries need them (the owner table applies ``office_public`` after ``cases``): cases by settlement
and state, by opening day and service, and complaint -> case links by complaint. Append new
migrations, never edit one.
"""

from __future__ import annotations

OWNER = "office_public"

_SQL_1 = """
CREATE TABLE office_open311_tokens (
    token TEXT PRIMARY KEY,
    complaint_id TEXT NOT NULL,
    key_name TEXT NOT NULL,
    created_utc TEXT NOT NULL
);
CREATE INDEX office_public_cases_settlement ON cases_cases (kato, operator, service, state, outcome);
CREATE INDEX office_public_cases_opened ON cases_cases (opened, case_id);
CREATE INDEX office_public_cases_service_opened ON cases_cases (service, opened);
CREATE INDEX office_public_case_complaints_complaint ON cases_case_complaints (complaint_id);
"""

#: (number, name, SQLite text, PostgreSQL text), in order
MIGRATIONS: tuple[tuple[int, str, str, str], ...] = (
    (1, "Open311 tokens; indexes of the public queries", _SQL_1, _SQL_1),)

from ..store import Migration, register_migrations  # noqa: E402

register_migrations(OWNER, [Migration(OWNER, n, lite, pg, name=name) for n, name, lite, pg in MIGRATIONS])
