-- reports migration 1 (sqlite): inspections
-- released as schema version 2 of qamtu 0.1.0; frozen: never edit, add a migration
CREATE TABLE inspections (
  inspection_id TEXT PRIMARY KEY,
  created_utc TEXT NOT NULL,
  grounds TEXT NOT NULL CHECK (grounds IN ('complaint', 'prosecutor')),
  operator TEXT NOT NULL,
  kato TEXT NOT NULL,
  act_number TEXT NOT NULL,
  act_registered TEXT NOT NULL,
  record TEXT NOT NULL
);

CREATE INDEX inspections_operator ON inspections (operator, kato);
