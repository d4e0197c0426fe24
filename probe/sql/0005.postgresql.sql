-- probe migration 5 (postgresql): monthly roll-up of the daily aggregates of migration 3
-- frozen: never edit, add a migration
-- sample_months: sample_days summed per UTC month (YYYY-MM) instead of day, with day_mask: bit d-1
-- set when day d of the month has samples of the key (days of any set of keys = bits of their OR).
-- sample_signal_months: sample_signal_days summed per month (same 1 dB bins: count, sum, maximum).
-- A classification reads whole months of its period here and only the days of its partial edge
-- months from the daily tables. Kept current with the daily tables, in the same transaction;
-- filled here from the daily tables (which migration 3 filled from the samples). Every batch that
-- adds samples of a month updates its rows: half of each page is kept free so that the new row
-- version stays on its page (a HOT update, no new index entries).
CREATE TABLE sample_months (
  kato TEXT NOT NULL,
  operator_mcc TEXT NOT NULL,
  operator_mnc TEXT NOT NULL,
  month TEXT NOT NULL,
  status TEXT NOT NULL,
  technology TEXT NOT NULL,
  samples BIGINT NOT NULL,
  day_mask BIGINT NOT NULL,
  first_utc TEXT NOT NULL,
  last_utc TEXT NOT NULL,
  PRIMARY KEY (month, kato, operator_mcc, operator_mnc, status, technology)
) WITH (fillfactor = 50);

CREATE TABLE sample_signal_months (
  kato TEXT NOT NULL,
  operator_mcc TEXT NOT NULL,
  operator_mnc TEXT NOT NULL,
  month TEXT NOT NULL,
  status TEXT NOT NULL,
  technology TEXT NOT NULL,
  metric TEXT NOT NULL,
  bin_dbm BIGINT NOT NULL,
  samples BIGINT NOT NULL,
  sum_dbm DOUBLE PRECISION NOT NULL,
  max_dbm DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (month, kato, operator_mcc, operator_mnc, status, technology, metric, bin_dbm)
) WITH (fillfactor = 50);

INSERT INTO sample_months (kato, operator_mcc, operator_mnc, month, status, technology, samples, day_mask, first_utc,
                           last_utc)
SELECT kato, operator_mcc, operator_mnc, substr(day, 1, 7), status, technology, SUM(samples),
       SUM(1 << (CAST(substr(day, 9, 2) AS INTEGER) - 1)), MIN(first_utc), MAX(last_utc)
FROM sample_days
GROUP BY kato, operator_mcc, operator_mnc, substr(day, 1, 7), status, technology;

INSERT INTO sample_signal_months (kato, operator_mcc, operator_mnc, month, status, technology, metric, bin_dbm,
                                  samples, sum_dbm, max_dbm)
SELECT kato, operator_mcc, operator_mnc, substr(day, 1, 7), status, technology, metric, bin_dbm, SUM(samples),
       SUM(sum_dbm), MAX(max_dbm)
FROM sample_signal_days
GROUP BY kato, operator_mcc, operator_mnc, substr(day, 1, 7), status, technology, metric, bin_dbm;
