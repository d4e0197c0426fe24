-- probe migration 2 (postgresql): references checked once per statement on PostgreSQL
-- released as schema version 4 of qamtu 0.1.0; frozen: never edit, add a migration
CREATE FUNCTION qamtu_parents_exist() RETURNS trigger LANGUAGE plpgsql AS $f$
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
END $f$;

CREATE FUNCTION qamtu_children_orphaned() RETURNS trigger LANGUAGE plpgsql AS $f$
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
END $f$;

ALTER TABLE records DROP CONSTRAINT records_session_id_fkey;

CREATE TRIGGER records_session_id_insert_check AFTER INSERT ON records REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_parents_exist('session_id', 'sessions', 'session_id');

CREATE TRIGGER records_session_id_update_check AFTER UPDATE ON records REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_parents_exist('session_id', 'sessions', 'session_id');

CREATE TRIGGER sessions_records_delete_check AFTER DELETE ON sessions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_children_orphaned('session_id', 'records', 'session_id');

CREATE TRIGGER sessions_records_update_check AFTER UPDATE ON sessions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_children_orphaned('session_id', 'records', 'session_id');

ALTER TABLE samples DROP CONSTRAINT samples_record_id_fkey;

CREATE TRIGGER samples_record_id_insert_check AFTER INSERT ON samples REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_parents_exist('record_id', 'records', 'record_id');

CREATE TRIGGER samples_record_id_update_check AFTER UPDATE ON samples REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_parents_exist('record_id', 'records', 'record_id');

CREATE TRIGGER records_samples_delete_check AFTER DELETE ON records REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_children_orphaned('record_id', 'samples', 'record_id');

CREATE TRIGGER records_samples_update_check AFTER UPDATE ON records REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_children_orphaned('record_id', 'samples', 'record_id');

ALTER TABLE speedtests DROP CONSTRAINT speedtests_record_id_fkey;

CREATE TRIGGER speedtests_record_id_insert_check AFTER INSERT ON speedtests REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_parents_exist('record_id', 'records', 'record_id');

CREATE TRIGGER speedtests_record_id_update_check AFTER UPDATE ON speedtests REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_parents_exist('record_id', 'records', 'record_id');

CREATE TRIGGER records_speedtests_delete_check AFTER DELETE ON records REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_children_orphaned('record_id', 'speedtests', 'record_id');

CREATE TRIGGER records_speedtests_update_check AFTER UPDATE ON records REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_children_orphaned('record_id', 'speedtests', 'record_id');

ALTER TABLE events DROP CONSTRAINT events_record_id_fkey;

CREATE TRIGGER events_record_id_insert_check AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_parents_exist('record_id', 'records', 'record_id');

CREATE TRIGGER events_record_id_update_check AFTER UPDATE ON events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_parents_exist('record_id', 'records', 'record_id');

CREATE TRIGGER records_events_delete_check AFTER DELETE ON records REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_children_orphaned('record_id', 'events', 'record_id');

CREATE TRIGGER records_events_update_check AFTER UPDATE ON records REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION qamtu_children_orphaned('record_id', 'events', 'record_id');
