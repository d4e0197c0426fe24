-- probe migration 1 (postgresql): sessions, hash-chained records and their projections
-- released as schema version 1 of qamtu 0.1.0; frozen: never edit, add a migration
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE sessions (
  session_id TEXT PRIMARY KEY,
  started_utc TEXT NOT NULL,
  ended_utc TEXT,
  status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  inspector TEXT NOT NULL,
  inspection_id TEXT,
  host TEXT,
  qamtu_version TEXT NOT NULL,
  meta TEXT NOT NULL
);

CREATE TABLE records (
  record_id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(session_id),
  seq BIGINT NOT NULL CHECK (seq >= 1),
  kind TEXT NOT NULL CHECK (kind IN ('sample', 'speedtest', 'event')),
  time_utc TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (session_id, seq)
);

CREATE TABLE samples (
  record_id TEXT PRIMARY KEY REFERENCES records(record_id),
  session_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  time_utc TEXT NOT NULL,
  status TEXT NOT NULL,
  port TEXT NOT NULL,
  imei TEXT,
  sim_operator TEXT,
  operator_mcc TEXT,
  operator_mnc TEXT,
  technology TEXT,
  registration TEXT,
  rsrp_dbm DOUBLE PRECISION,
  rsrq_db DOUBLE PRECISION,
  sinr_db DOUBLE PRECISION,
  rssi_dbm DOUBLE PRECISION,
  rscp_dbm DOUBLE PRECISION,
  ecio_db DOUBLE PRECISION,
  nr_rsrp_dbm DOUBLE PRECISION,
  nr_sinr_db DOUBLE PRECISION,
  area_code BIGINT,
  cell_id BIGINT,
  pci BIGINT,
  band TEXT,
  channel BIGINT,
  lat DOUBLE PRECISION,
  lon DOUBLE PRECISION,
  hdop DOUBLE PRECISION,
  fix_mode TEXT NOT NULL,
  kato TEXT,
  kato_distance_m DOUBLE PRECISION,
  tag_reason TEXT NOT NULL,
  inspector TEXT NOT NULL,
  inspection_id TEXT
);

CREATE TABLE speedtests (
  record_id TEXT PRIMARY KEY REFERENCES records(record_id),
  session_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  time_utc TEXT NOT NULL,
  trigger TEXT NOT NULL,
  port TEXT NOT NULL,
  imei TEXT,
  operator_mcc TEXT,
  operator_mnc TEXT,
  technology TEXT,
  method TEXT,
  method_version TEXT,
  consumer_comparable_only BIGINT NOT NULL,
  valid BIGINT NOT NULL,
  download_mbps DOUBLE PRECISION,
  upload_mbps DOUBLE PRECISION,
  latency_ms DOUBLE PRECISION,
  failure_cause TEXT,
  lat DOUBLE PRECISION,
  lon DOUBLE PRECISION,
  kato TEXT,
  inspector TEXT NOT NULL,
  inspection_id TEXT
);

CREATE TABLE events (
  record_id TEXT PRIMARY KEY REFERENCES records(record_id),
  session_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  time_utc TEXT NOT NULL,
  type TEXT NOT NULL,
  message TEXT NOT NULL,
  port TEXT
);

CREATE INDEX samples_time ON samples (time_utc);

CREATE INDEX samples_kato ON samples (kato, operator_mcc, operator_mnc);

CREATE INDEX samples_session ON samples (session_id, seq);

CREATE INDEX samples_inspection ON samples (inspection_id);

CREATE INDEX speedtests_time ON speedtests (time_utc);

CREATE INDEX speedtests_kato ON speedtests (kato, operator_mcc, operator_mnc);

CREATE INDEX speedtests_inspection ON speedtests (inspection_id);

CREATE INDEX events_session ON events (session_id, seq);

ALTER TABLE samples ADD COLUMN geom geometry(Point, 4326) GENERATED ALWAYS AS (CASE WHEN lon IS NULL OR lat IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END) STORED;

ALTER TABLE speedtests ADD COLUMN geom geometry(Point, 4326) GENERATED ALWAYS AS (CASE WHEN lon IS NULL OR lat IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END) STORED;

CREATE INDEX samples_geom ON samples USING GIST (geom);

ALTER TABLE records ALTER COLUMN payload SET COMPRESSION lz4;

CREATE INDEX speedtests_geom ON speedtests USING GIST (geom);
