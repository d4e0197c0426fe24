"""Benchmark: settlement matching of complaint addresses (cases/matching.py).

Prints, on the labelled set ``tests/fixtures/addresses_labelled.csv``:

- precision (correct confident answers / confident answers) and recall (correct confident
  answers / rows with a label), and how the unlabelled rows were answered;
- time per address: the first pass on a fresh matcher (nothing cached) and a second pass;

and then the import+match of 100,000 complaint rows: rows generated from the labelled set
(each address with a different house number and flat, so the whole text never repeats), written
to a CSV, read back with the csv module and matched one by one. The matching part is timed on
its own as well. Not a test: it asserts nothing and prints figures.

    .venv/bin/python bench/bench_matching.py [--rows 100000] [--gazetteer FILE]
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "fixtures" / "addresses_labelled.csv"


def _labelled() -> list[dict[str, str]]:
    with LABELLED.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def quality(matcher, rows) -> dict[str, float]:
    """Precision, recall and counts of one pass over the labelled rows, with per-address times (ms)."""
    confident = correct = labelled = unlabelled_asked = 0
    times, cpu = [], []
    for r in rows:
        c0, t0 = time.thread_time(), time.perf_counter()
        m = matcher.match(r["text"])
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        labelled += bool(r["expected_kato"])
        if not m.needs_person:
            confident += 1
            correct += m.kato == r["expected_kato"]
        elif not r["expected_kato"]:
            unlabelled_asked += 1
    return {"rows": len(rows), "labelled": labelled, "confident": confident, "correct": correct,
            "wrong": confident - correct, "precision": correct / confident if confident else 1.0,
            "recall": correct / labelled, "unlabelled_asked": unlabelled_asked,
            "unlabelled": len(rows) - labelled, "ms_mean": statistics.fmean(times),
            "ms_p95": sorted(times)[int(0.95 * len(times))], "ms_max": max(times),
            "cpu_mean": statistics.fmean(cpu), "cpu_p95": sorted(cpu)[int(0.95 * len(cpu))], "cpu_max": max(cpu)}


def complaint_rows(rows, n: int, seed: int = 14) -> list[list[str]]:
    """``n`` complaint rows (number, channel, address) made from the labelled addresses."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = rng.choice(rows)["text"]
        suffix = rng.choice([f", үй {rng.randint(1, 300)}", f", д. {rng.randint(1, 300)}, кв. {rng.randint(1, 90)}",
                             f" {rng.randint(1, 300)}", ""])
        out.append([f"EO-{i:06d}", rng.choice(["e-otinish", "109", "egov", "paper"]), text + suffix])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000, help="complaint rows to import and match")
    ap.add_argument("--gazetteer", type=Path, default=None, help="settlements GeoJSON (default: the bundled one)")
    args = ap.parse_args()
    from qamtu.cases.matching import AddressMatcher, fold_token, search_key, unit_key
    from qamtu.mapping.gazetteer import Gazetteer

    console = Console()
    t0 = time.perf_counter()
    gaz = Gazetteer.load(args.gazetteer)
    matcher = AddressMatcher(gaz)
    build_s = time.perf_counter() - t0
    rows = _labelled()
    cold = quality(matcher, rows)
    warm = quality(matcher, rows)

    table = Table(title=f"Labelled set ({cold['rows']} addresses, {len(gaz)} settlements in the gazetteer)")
    for col in ("figure", "value"):
        table.add_column(col)
    table.add_row("precision (correct / confident)", f"{cold['precision']:.3f} ({cold['correct']}/{cold['confident']}, "
                                                     f"{cold['wrong']} wrong)")
    table.add_row("recall (correct / labelled)", f"{cold['recall']:.3f} ({cold['correct']}/{cold['labelled']})")
    table.add_row("unlabelled rows sent to a person", f"{cold['unlabelled_asked']}/{cold['unlabelled']}")
    table.add_row("matcher build (load gazetteer + index)", f"{build_s * 1000:.0f} ms")
    for label, q in (("first pass", cold), ("second pass", warm)):
        table.add_row(f"ms per address, {label}, wall (mean / p95 / max)",
                      f"{q['ms_mean']:.2f} / {q['ms_p95']:.2f} / {q['ms_max']:.2f}")
        table.add_row(f"ms per address, {label}, CPU (mean / p95 / max)",
                      f"{q['cpu_mean']:.2f} / {q['cpu_p95']:.2f} / {q['cpu_max']:.2f}")
    console.print(table)

    data = complaint_rows(rows, args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "complaints.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["number", "channel", "address"])
            w.writerows(data)
        for cached in (search_key, fold_token, unit_key):   # nothing carried over from the passes above
            cached.cache_clear()
        fresh = AddressMatcher(gaz)
        t0, c0 = time.perf_counter(), time.process_time()
        matched = asked = 0
        match_s = 0.0
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                t1 = time.perf_counter()
                m = fresh.match(row["address"])
                match_s += time.perf_counter() - t1
                matched += not m.needs_person
                asked += m.needs_person
        total_s, total_cpu = time.perf_counter() - t0, time.process_time() - c0
    t2 = Table(title=f"Import and match {args.rows:,} complaint rows (fresh matcher)")
    for col in ("figure", "value"):
        t2.add_column(col)
    t2.add_row("read CSV + match, total", f"{total_s:.1f} s wall, {total_cpu:.1f} s CPU (goal 60 s)")
    t2.add_row("matching part", f"{match_s:.1f} s ({match_s / args.rows * 1000:.3f} ms per row)")
    t2.add_row("matched / sent to a person", f"{matched:,} / {asked:,}")
    console.print(t2)
    console.print("Machine: 2 cores shared with seven other engineers' jobs; wall times include waiting for a core "
                  "(the CPU figures do not) and vary run to run.")


if __name__ == "__main__":
    main()
