"""Where the PostgreSQL server spends its time in a push: server CPU per record with one index or
check of the schema taken away at a time. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_db.py --laptop /tmp/laptop1m.db --skip-classify   # writes the file once
    .venv/bin/python bench/bench_db_ablation.py --laptop /tmp/laptop1m.db [--sessions 6]

For each variant a throwaway PostGIS database is migrated, the variant's statements run, and the
first --sessions sessions of the laptop file are COPYed in the push's batches by one connection,
with the push's daily-aggregate upserts in each batch's transaction where the variant says so.
Rows and projections are prepared before the clock starts, so the figure is the server's: CPU
seconds of its backend (from /proc) per record, mean and spread over the sessions after the first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pg import Cluster  # noqa: E402

from bench_db import process_cpu_s  # noqa: E402

from qamtu.probe.aggregates import UPSERTS, statements as aggregate_statements  # noqa: E402
from qamtu.probe.push import (BATCH, RECORD_COLUMNS, SessionPush, _ensure_session,  # noqa: E402
                              _new_samples, _projection_rows, _rows, _session_row)
from qamtu.probe.store import Store  # noqa: E402
from qamtu.probe.store import sample_store as open_store  # noqa: E402

FOREIGN_KEYS = ["DROP TRIGGER records_session_id_insert_check ON records",
                "DROP TRIGGER samples_record_id_insert_check ON samples",
                "ALTER TABLE records ADD FOREIGN KEY (session_id) REFERENCES sessions (session_id)",
                "ALTER TABLE samples ADD FOREIGN KEY (record_id) REFERENCES records (record_id)"]
NO_CHECKS = FOREIGN_KEYS[:2]

#: name -> (statements after the migrations, copy the projections too, add to the daily aggregates: all
#: (True), none (False) or one table's (its name))
VARIANTS: dict[str, tuple[list[str], bool, bool]] = {
    "schema as migrated, with the daily aggregates (a push)": ([], True, True),
    "schema as migrated, no daily aggregates": ([], True, False),
    "with the daily aggregates of sample_days only": ([], True, "sample_days"),
    "with the daily aggregates, full pages (before probe migration 4)": (
        [f"ALTER TABLE {t} SET (fillfactor = 100)" for t in ("sample_days", "sample_signal_days")], True, True),
    "per-row foreign keys instead (migrations 1-3)": (FOREIGN_KEYS, True, False),
    "no reference checks at all": (NO_CHECKS, True, False),
    "without the GIST index samples_geom": (["DROP INDEX samples_geom"], True, False),
    "without the 4 btree indexes of samples": ([f"DROP INDEX samples_{ix}" for ix in
                                                ("time", "kato", "session", "inspection")], True, False),
    "records only (no projection rows)": ([], False, False),
    "records only, per-row foreign key": (FOREIGN_KEYS[:1] + FOREIGN_KEYS[2:3], False, False),
}


def run_variant(cluster: Cluster, name: str, statements: list[str], projections: bool, aggregates: bool | str,
                prepared: dict[str, list], source: Store) -> list[float]:
    """Server CPU µs per record for each session after the first."""
    url = cluster.create_db(f"ablation_{abs(hash(name)) % 10**8}")
    per_record = []
    with open_store(url) as dst:
        for sql in statements:
            dst.execute(sql)
        for sid in prepared:
            _ensure_session(dst, _session_row(source, sid), SessionPush(sid))
        pid = dst.scalar("SELECT pg_backend_pid()")
        for i, (sid, batches) in enumerate(prepared.items()):
            before, records = process_cpu_s(pid), 0
            for rows, proj in batches:
                with dst.transaction("copying a batch") as tx:
                    tx.copy("records", RECORD_COLUMNS, rows, dst.column_types("records", RECORD_COLUMNS))
                    for table, (cols, values) in proj.items() if projections else ():
                        tx.copy(table, cols, values, dst.column_types(table, cols))
                    new = _new_samples(dst.engine, rows, proj) if aggregates else None
                    for (table, _), (sql, params) in zip(UPSERTS, aggregate_statements(dst.engine, new) if new else []):
                        if aggregates is True or table == aggregates:
                            tx.execute(sql, params)
                records += len(rows)
            if i:
                per_record.append((process_cpu_s(pid) - before) / records * 1e6)
    return per_record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--laptop", type=Path, required=True, help="a laptop file written by bench_db.py --laptop")
    ap.add_argument("--sessions", type=int, default=6)
    args = ap.parse_args()
    console = Console()
    source = Store(args.laptop)
    sids = [r[0] for r in source.rows("SELECT session_id FROM sessions ORDER BY session_id LIMIT ?",
                                      (args.sessions,))]
    with console.status("reading and preparing the sessions…"):
        prepared = {sid: [(rows, _projection_rows(rows)) for rows in _rows(source, sid, BATCH)] for sid in sids}
    cluster = Cluster().start()
    table = Table(title=f"PostgreSQL server CPU per record, {len(sids) - 1} sessions of "
                        f"{sum(len(r) for r, _ in prepared[sids[0]]):,} records each")
    for c in ("variant", "µs per record", "spread"):
        table.add_column(c, justify="right" if c != "variant" else "left")
    try:
        for name, (statements, projections, aggregates) in VARIANTS.items():
            with console.status(name):
                values = run_variant(cluster, name, statements, projections, aggregates, prepared, source)
            table.add_row(name, f"{statistics.mean(values):.1f}",
                          f"±{statistics.stdev(values):.1f}" if len(values) > 1 else "")
    finally:
        cluster.stop()
    console.print(table)


if __name__ == "__main__":
    main()
