-- probe migration 2 (sqlite): references checked once per statement on PostgreSQL
-- released as schema version 4 of qamtu 0.1.0; frozen: never edit, add a migration
-- Nothing to do on SQLite: it keeps its foreign keys (a laptop writes a few records a second).

