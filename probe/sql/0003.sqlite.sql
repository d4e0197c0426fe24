-- probe migration 3 (sqlite): daily aggregates of samples per settlement x operator x UTC day
-- frozen: never edit, add a migration
-- sample_days: samples per settlement (kato, '' when untagged) x operator ('' when unknown) x UTC day
-- x status x technology ('none' when unknown), with the first and last sample time.
-- sample_signal_days: the same key x metric x 1 dB bin (floor of the value in dBm): count, sum, maximum.
-- Kept current in the transaction that records or pushes samples; filled here from existing samples.
CREATE TABLE sample_days (
  kato TEXT NOT NULL,
  operator_mcc TEXT NOT NULL,
  operator_mnc TEXT NOT NULL,
  day TEXT NOT NULL,
  status TEXT NOT NULL,
  technology TEXT NOT NULL,
  samples INTEGER NOT NULL,
  first_utc TEXT NOT NULL,
  last_utc TEXT NOT NULL,
  PRIMARY KEY (day, kato, operator_mcc, operator_mnc, status, technology)
);

CREATE TABLE sample_signal_days (
  kato TEXT NOT NULL,
  operator_mcc TEXT NOT NULL,
  operator_mnc TEXT NOT NULL,
  day TEXT NOT NULL,
  status TEXT NOT NULL,
  technology TEXT NOT NULL,
  metric TEXT NOT NULL,
  bin_dbm INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  sum_dbm REAL NOT NULL,
  max_dbm REAL NOT NULL,
  PRIMARY KEY (day, kato, operator_mcc, operator_mnc, status, technology, metric, bin_dbm)
);

INSERT INTO sample_days (kato, operator_mcc, operator_mnc, day, status, technology, samples, first_utc, last_utc)
SELECT COALESCE(kato, ''), COALESCE(operator_mcc, ''), COALESCE(operator_mnc, ''), substr(time_utc, 1, 10), status,
       COALESCE(technology, 'none'), COUNT(*), MIN(time_utc), MAX(time_utc)
FROM samples
GROUP BY 1, 2, 3, 4, 5, 6;

INSERT INTO sample_signal_days (kato, operator_mcc, operator_mnc, day, status, technology, metric, bin_dbm, samples,
                                sum_dbm, max_dbm)
SELECT k, mcc, mnc, d, st, tech, metric, CAST(v AS INTEGER) - (v < CAST(v AS INTEGER)), COUNT(*), SUM(v), MAX(v)
FROM (
  SELECT COALESCE(kato, '') AS k, COALESCE(operator_mcc, '') AS mcc, COALESCE(operator_mnc, '') AS mnc,
         substr(time_utc, 1, 10) AS d, status AS st, COALESCE(technology, 'none') AS tech, 'rsrp_dbm' AS metric,
         rsrp_dbm AS v FROM samples WHERE typeof(rsrp_dbm) IN ('real', 'integer')
  UNION ALL
  SELECT COALESCE(kato, ''), COALESCE(operator_mcc, ''), COALESCE(operator_mnc, ''), substr(time_utc, 1, 10), status,
         COALESCE(technology, 'none'), 'rscp_dbm', rscp_dbm FROM samples WHERE typeof(rscp_dbm) IN ('real', 'integer')
  UNION ALL
  SELECT COALESCE(kato, ''), COALESCE(operator_mcc, ''), COALESCE(operator_mnc, ''), substr(time_utc, 1, 10), status,
         COALESCE(technology, 'none'), 'rssi_dbm', rssi_dbm FROM samples WHERE typeof(rssi_dbm) IN ('real', 'integer')
  UNION ALL
  SELECT COALESCE(kato, ''), COALESCE(operator_mcc, ''), COALESCE(operator_mnc, ''), substr(time_utc, 1, 10), status,
         COALESCE(technology, 'none'), 'nr_rsrp_dbm', nr_rsrp_dbm FROM samples
  WHERE typeof(nr_rsrp_dbm) IN ('real', 'integer')
) v
WHERE v > -1000 AND v < 1000
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
