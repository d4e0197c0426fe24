-- reports migration 2 (postgresql): survey observations and remediation plans
-- released as schema version 3 of qamtu 0.1.0; frozen: never edit, add a migration
CREATE TABLE survey_observations (
  kato TEXT NOT NULL,
  year BIGINT NOT NULL,
  dimension TEXT NOT NULL,
  value TEXT NOT NULL CHECK (value IN ('yes', 'no')),
  observed_on TEXT,
  observer TEXT,
  note TEXT,
  source_file TEXT NOT NULL,
  source_row BIGINT NOT NULL,
  imported_utc TEXT NOT NULL,
  PRIMARY KEY (kato, year, dimension)
);

CREATE TABLE remediation_plans (
  kato TEXT NOT NULL,
  dimension TEXT NOT NULL,
  planned_year BIGINT NOT NULL,
  programme TEXT,
  responsible TEXT,
  note TEXT,
  source_file TEXT NOT NULL,
  source_row BIGINT NOT NULL,
  imported_utc TEXT NOT NULL,
  PRIMARY KEY (kato, dimension, planned_year)
);

CREATE INDEX survey_observations_year ON survey_observations (year);
