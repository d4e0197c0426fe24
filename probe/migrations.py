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
    # SQLite keeps its foreign keys (a laptop writes a few records a second); PostgreSQL replaces
    # them with set-based checks, see POSTGIS_EXTRAS[4].
    (4, "references checked once per statement on PostgreSQL", []),
]

LATEST = MIGRATIONS[-1][0]

#: child table, its column -> parent table, its column: what the foreign keys of migration 1 say.
REFERENCES = [("records", "session_id", "sessions", "session_id"),
              *((table, "record_id", "records", "record_id") for table, _ in PROJECTIONS.values())]


def _statement_checks() -> list[str]:
    """Migration 4 on PostgreSQL: each foreign key of migration 1 becomes statement-level triggers.

    A foreign key checks every inserted row with its own query and locks the parent row; a merge
    of a million records spent more than a third of the server's time there. These triggers see
    all rows a statement (one COPY of a batch) inserted, updated or deleted, as a transition table,
    and check them with one query: a row whose parent is missing, or a parent removed while rows
    still refer to it, aborts the statement with SQLSTATE 23503 (foreign_key_violation), as the
    foreign key did. Unlike a foreign key, nothing locks the parent row, so a transaction deleting
    a session at the same moment another one adds records to it is not caught; Qamtu never deletes
    sessions or records, and ``qamtu sessions check`` reports rows outside their session's chain.
    TRUNCATE is not checked.
    """
    out = [
        """CREATE FUNCTION qamtu_parents_exist() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE missing text;
BEGIN
  -- TG_ARGV: column, parent table, parent column
  EXECUTE format('SELECT n.%1$I::text FROM (SELECT DISTINCT %1$I FROM new_rows) n '
                 'WHERE NOT EXISTS (SELECT 1 FROM %2$I p WHERE p.%3$I = n.%1$I) LIMIT 1',
                 TG_ARGV[0], TG_ARGV[1], TG_ARGV[2]) INTO missing;
  IF missing IS NOT NULL THEN
    RAISE foreign_key_violation USING MESSAGE = format('%s.%s %s refers to no row of %s',
      TG_TABLE_NAME, TG_ARGV[0], missing, TG_ARGV[1]);
  END IF;
  RETURN NULL;
END $f$""",
        """CREATE FUNCTION qamtu_children_orphaned() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE orphaned text;
BEGIN
  -- TG_ARGV: column, child table, child column
  EXECUTE format('SELECT o.%1$I::text FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM %4$I p WHERE p.%1$I = o.%1$I) '
                 'AND EXISTS (SELECT 1 FROM %2$I c WHERE c.%3$I = o.%1$I) LIMIT 1',
                 TG_ARGV[0], TG_ARGV[1], TG_ARGV[2], TG_TABLE_NAME) INTO orphaned;
  IF orphaned IS NOT NULL THEN
    RAISE foreign_key_violation USING MESSAGE = format('%s.%s %s is still referred to by %s',
      TG_TABLE_NAME, TG_ARGV[0], orphaned, TG_ARGV[1]);
  END IF;
  RETURN NULL;
END $f$""",
    ]
    for child, column, parent, parent_column in REFERENCES:
        out.append(f"ALTER TABLE {child} DROP CONSTRAINT {child}_{column}_fkey")
        for event in ("INSERT", "UPDATE"):
            out.append(f"CREATE TRIGGER {child}_{column}_{event.lower()}_check AFTER {event} ON {child} "
                       f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION qamtu_parents_exist('{column}', '{parent}', '{parent_column}')")
        for event in ("DELETE", "UPDATE"):
            out.append(f"CREATE TRIGGER {parent}_{child}_{event.lower()}_check AFTER {event} ON {parent} "
                       f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION qamtu_children_orphaned('{parent_column}', '{child}', '{column}')")
    return out


#: Extra statements of each migration on PostgreSQL: PostGIS geometry (generated from lon/lat,
#: so it can never disagree with them) and spatial indexes (1); references checked per statement (4).
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
    4: _statement_checks(),
}
