-- probe migration 1 (sqlite): sessions, hash-chained records and their projections
-- released as schema version 1 of qamtu 0.1.0; frozen: never edit, add a migration
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
  seq INTEGER NOT NULL CHECK (seq >= 1),
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
  seq INTEGER NOT NULL,
  time_utc TEXT NOT NULL,
  status TEXT NOT NULL,
  port TEXT NOT NULL,
  imei TEXT,
  sim_operator TEXT,
  operator_mcc TEXT,
  operator_mnc TEXT,
  technology TEXT,
  registration TEXT,
  rsrp_dbm REAL,
  rsrq_db REAL,
  sinr_db REAL,
  rssi_dbm REAL,
  rscp_dbm REAL,
  ecio_db REAL,
  nr_rsrp_dbm REAL,
  nr_sinr_db REAL,
  area_code INTEGER,
  cell_id INTEGER,
  pci INTEGER,
  band TEXT,
  channel INTEGER,
  lat REAL,
  lon REAL,
  hdop REAL,
  fix_mode TEXT NOT NULL,
  kato TEXT,
  kato_distance_m REAL,
  tag_reason TEXT NOT NULL,
  inspector TEXT NOT NULL,
  inspection_id TEXT
);

CREATE TABLE speedtests (
  record_id TEXT PRIMARY KEY REFERENCES records(record_id),
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time_utc TEXT NOT NULL,
  trigger TEXT NOT NULL,
  port TEXT NOT NULL,
  imei TEXT,
  operator_mcc TEXT,
  operator_mnc TEXT,
  technology TEXT,
  method TEXT,
  method_version TEXT,
  consumer_comparable_only INTEGER NOT NULL,
  valid INTEGER NOT NULL,
  download_mbps REAL,
  upload_mbps REAL,
  latency_ms REAL,
  failure_cause TEXT,
  lat REAL,
  lon REAL,
  kato TEXT,
  inspector TEXT NOT NULL,
  inspection_id TEXT
);

CREATE TABLE events (
  record_id TEXT PRIMARY KEY REFERENCES records(record_id),
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
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
