"""The probe's tables: sessions, hash-chained records and their projections (samples, speed tests, events).

Registered with the store on import (``qamtu/store/data/owners.toml`` names this module). The SQL
of each migration is frozen text in ``probe/sql/NNNN.<engine>.sql``: never edit a released file
(``tests/test_store_migrations.py`` holds their SHA-256), add a migration instead.

``records`` is the source of truth: every row holds its payload JSON and its place in the
session's hash chain. ``samples``, ``speedtests`` and ``events`` are flat projections of those
payloads for queries and maps; ``qamtu sessions check`` recomputes them from the payloads and
reports any difference, so editing a projection is detected like editing a record.

Migrations (``legacy`` = the schema version qamtu 0.1.0 released them as):

1. sessions, records, samples, speedtests, events and their indexes; on PostgreSQL also PostGIS
   ``geom`` columns generated from lon/lat, GIST indexes and lz4 payload compression (legacy 1).
2. PostgreSQL only: each foreign key of migration 1 becomes statement-level triggers that check
   all rows of a statement (one COPY) with one query, SQLSTATE 23503 as before (legacy 4).
3. Daily aggregates ``sample_days`` and ``sample_signal_days`` (see :mod:`qamtu.probe.aggregates`),
   filled from the samples already there; kept current by every transaction that adds samples.
4. PostgreSQL only: both aggregate tables get ``fillfactor = 50``, so that the upsert of a push batch
   updates a row on its own page (HOT) instead of moving it and adding index entries.
5. Monthly roll-up ``sample_months`` and ``sample_signal_months`` of those daily aggregates (a
   classification reads its period's whole months there, only the edge days from the daily tables),
   filled from the daily tables; kept current with them in the same transactions (``fillfactor = 50``
   on PostgreSQL from the start).
"""

from __future__ import annotations

from .. import package_path
from ..store import Migration, register_migrations

OWNER = "probe"

#: Projection columns (name -> SQL type as migration 1 declares it), in the order of
#: ``probe.samples.*_columns``. These mirror the frozen DDL; a test compares them with the tables.
SAMPLE_COLUMNS = {
    "status": "TEXT NOT NULL", "port": "TEXT NOT NULL", "imei": "TEXT", "sim_operator": "TEXT",
    "operator_mcc": "TEXT", "operator_mnc": "TEXT", "technology": "TEXT", "registration": "TEXT",
    "rsrp_dbm": "REAL", "rsrq_db": "REAL", "sinr_db": "REAL", "rssi_dbm": "REAL", "rscp_dbm": "REAL",
    "ecio_db": "REAL", "nr_rsrp_dbm": "REAL", "nr_sinr_db": "REAL", "area_code": "INTEGER",
    "cell_id": "INTEGER", "pci": "INTEGER", "band": "TEXT", "channel": "INTEGER",
    "lat": "REAL", "lon": "REAL", "hdop": "REAL", "fix_mode": "TEXT NOT NULL",
    "kato": "TEXT", "kato_distance_m": "REAL", "tag_reason": "TEXT NOT NULL",
    "inspector": "TEXT NOT NULL", "inspection_id": "TEXT",
}
SPEEDTEST_COLUMNS = {
    "trigger": "TEXT NOT NULL", "port": "TEXT NOT NULL", "imei": "TEXT", "operator_mcc": "TEXT",
    "operator_mnc": "TEXT", "technology": "TEXT", "method": "TEXT", "method_version": "TEXT",
    "consumer_comparable_only": "INTEGER NOT NULL", "valid": "INTEGER NOT NULL", "download_mbps": "REAL",
    "upload_mbps": "REAL", "latency_ms": "REAL", "failure_cause": "TEXT", "lat": "REAL", "lon": "REAL",
    "kato": "TEXT", "inspector": "TEXT NOT NULL", "inspection_id": "TEXT",
}
EVENT_COLUMNS = {"type": "TEXT NOT NULL", "message": "TEXT NOT NULL", "port": "TEXT"}

#: record kind -> (projection table, its columns)
PROJECTIONS = {"sample": ("samples", SAMPLE_COLUMNS), "speedtest": ("speedtests", SPEEDTEST_COLUMNS),
               "event": ("events", EVENT_COLUMNS)}

#: child table, its column -> parent table, its column: what the foreign keys of migration 1 say.
REFERENCES = [("records", "session_id", "sessions", "session_id"),
              *((table, "record_id", "records", "record_id") for table, _ in PROJECTIONS.values())]


def _sql(number: int, engine: str) -> str:
    return package_path("probe", "sql", f"{number:04d}.{engine}.sql").read_text(encoding="utf-8")


MIGRATIONS = [
    Migration(OWNER, 1, _sql(1, "sqlite"), _sql(1, "postgresql"),
              name="sessions, hash-chained records and their projections", legacy_version=1),
    Migration(OWNER, 2, _sql(2, "sqlite"), _sql(2, "postgresql"),
              name="references checked once per statement on PostgreSQL", legacy_version=4),
    Migration(OWNER, 3, _sql(3, "sqlite"), _sql(3, "postgresql"),
              name="daily aggregates of samples per settlement x operator x day"),
    Migration(OWNER, 4, _sql(4, "sqlite"), _sql(4, "postgresql"),
              name="daily aggregate tables keep half of each page free on PostgreSQL"),
    Migration(OWNER, 5, _sql(5, "sqlite"), _sql(5, "postgresql"),
              name="monthly roll-up of the daily sample aggregates"),
]

register_migrations(OWNER, MIGRATIONS)
