-- probe migration 4 (postgresql): the daily aggregate tables keep half of each page free
-- frozen: never edit, add a migration
-- Every batch a push commits adds to rows of sample_days and sample_signal_days (one upsert per key
-- of the batch). With free room on the row's page the new row version stays there (a HOT update: no
-- index entry, the old version pruned on the page); on a full page it moves and every index gets a
-- new entry, and the tables bloat until a vacuum. Half a page is room for one new version of each
-- row, which the pruning of the next visit frees again (bench/bench_db_ablation.py measures it).
ALTER TABLE sample_days SET (fillfactor = 50);

ALTER TABLE sample_signal_days SET (fillfactor = 50);
