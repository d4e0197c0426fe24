"""Versioned schema of the sample store. Each migration runs once, inside one transaction.

``records`` is the source of truth: every row holds its payload JSON and its place in the session's
hash chain. ``samples``, ``speedtests`` and ``events`` are flat projections of those payloads for
queries and maps; ``qamtu sessions check`` recomputes them from the payloads and reports any
difference, so editing a projection is detected like editing a record.
"""

from __future__ import annotations

#: Projection columns (name -> SQL type), in the order of probe.samples.*_columns.
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

PROJECTIONS = {"sample": ("samples", SAMPLE_COLUMNS), "speedtest": ("speedtests", SPEEDTEST_COLUMNS),
               "event": ("events", EVENT_COLUMNS)}


def _projection_ddl(table: str, columns: dict[str, str]) -> str:
    cols = ",\n  ".join(f"{name} {kind}" for name, kind in columns.items())
    return (f"CREATE TABLE {table} (\n  record_id TEXT PRIMARY KEY REFERENCES records(record_id),\n"
            f"  session_id TEXT NOT NULL,\n  seq INTEGER NOT NULL,\n  time_utc TEXT NOT NULL,\n  {cols}\n)")


MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "sessions, hash-chained records and their projections", [
        """CREATE TABLE sessions (
  session_id TEXT PRIMARY KEY,
  started_utc TEXT NOT NULL,
  ended_utc TEXT,
  status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  inspector TEXT NOT NULL,
  inspection_id TEXT,
  host TEXT,
  qamtu_version TEXT NOT NULL,
  meta TEXT NOT NULL
)""",
        """CREATE TABLE records (
  record_id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(session_id),
  seq INTEGER NOT NULL CHECK (seq >= 1),
  kind TEXT NOT NULL CHECK (kind IN ('sample', 'speedtest', 'event')),
  time_utc TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (session_id, seq)
)""",
        _projection_ddl("samples", SAMPLE_COLUMNS),
        _projection_ddl("speedtests", SPEEDTEST_COLUMNS),
        _projection_ddl("events", EVENT_COLUMNS),
        "CREATE INDEX samples_time ON samples (time_utc)",
        "CREATE INDEX samples_kato ON samples (kato, operator_mcc, operator_mnc)",
        "CREATE INDEX samples_session ON samples (session_id, seq)",
        "CREATE INDEX samples_inspection ON samples (inspection_id)",
        "CREATE INDEX speedtests_time ON speedtests (time_utc)",
        "CREATE INDEX speedtests_kato ON speedtests (kato, operator_mcc, operator_mnc)",
        "CREATE INDEX speedtests_inspection ON speedtests (inspection_id)",
        "CREATE INDEX events_session ON events (session_id, seq)",
    ]),
    # Inspections under KoAP art. 637 (issue 7, owned by qamtu.reports.inspections): one row per
    # inspection; `record` holds the full record as canonical JSON, the other columns are for queries.
    (2, "inspections", [
        """CREATE TABLE inspections (
  inspection_id TEXT PRIMARY KEY,
  created_utc TEXT NOT NULL,
  grounds TEXT NOT NULL CHECK (grounds IN ('complaint', 'prosecutor')),
  operator TEXT NOT NULL,
  kato TEXT NOT NULL,
  act_number TEXT NOT NULL,
  act_registered TEXT NOT NULL,
  record TEXT NOT NULL
)""",
        "CREATE INDEX inspections_operator ON inspections (operator, kato)",
    ]),
    # Five-year problem picture (issue 8, owned by qamtu.reports.surveys): survey observations of what
    # the probe cannot measure, and remediation plans. A re-imported key replaces the earlier row.
    (3, "survey observations and remediation plans", [
        """CREATE TABLE survey_observations (
  kato TEXT NOT NULL,
  year INTEGER NOT NULL,
  dimension TEXT NOT NULL,
  value TEXT NOT NULL CHECK (value IN ('yes', 'no')),
  observed_on TEXT,
  observer TEXT,
  note TEXT,
  source_file TEXT NOT NULL,
  source_row INTEGER NOT NULL,
  imported_utc TEXT NOT NULL,
  PRIMARY KEY (kato, year, dimension)
)""",
        """CREATE TABLE remediation_plans (
  kato TEXT NOT NULL,
  dimension TEXT NOT NULL,
  planned_year INTEGER NOT NULL,
  programme TEXT,
  responsible TEXT,
  note TEXT,
  source_file TEXT NOT NULL,
  source_row INTEGER NOT NULL,
  imported_utc TEXT NOT NULL,
  PRIMARY KEY (kato, dimension, planned_year)
)""",
        "CREATE INDEX survey_observations_year ON survey_observations (year)",
    ]),
]

LATEST = MIGRATIONS[-1][0]

#: Extra statements of each migration on PostgreSQL: PostGIS geometry (generated from lon/lat,
#: so it can never disagree with them) and spatial indexes.
POSTGIS_EXTRAS: dict[int, list[str]] = {
    1: [
        "ALTER TABLE samples ADD COLUMN geom geometry(Point, 4326) GENERATED ALWAYS AS "
        "(CASE WHEN lon IS NULL OR lat IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END) STORED",
        "ALTER TABLE speedtests ADD COLUMN geom geometry(Point, 4326) GENERATED ALWAYS AS "
        "(CASE WHEN lon IS NULL OR lat IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END) STORED",
        "CREATE INDEX samples_geom ON samples USING GIST (geom)",
        # payloads are about 2 KB: lz4 compresses them several times faster than the default pglz
        "ALTER TABLE records ALTER COLUMN payload SET COMPRESSION lz4",
        "CREATE INDEX speedtests_geom ON speedtests USING GIST (geom)",
    ],
}
