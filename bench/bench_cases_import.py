"""Import N synthetic complaint rows (default 100,000) with `qamtu cases import`'s library: check every row,
match its address, extract operators and services, register, group into cases, chain the history.

Prints wall and CPU seconds for the check (parse + match + extract) and the write (one transaction),
rows per second, complaints and cases written. The goal of issue 14 is under 60 s for 100,000 rows.

    .venv/bin/python bench/bench_cases_import.py [N] [--db FILE]
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from qamtu.cases.db import open_cases_store
from qamtu.cases.importer import import_file, load_mapping
from qamtu.cases.registers import appeals
from qamtu.mapping.gazetteer import Gazetteer

HEAD = ["Канал", "Номер обращения", "Дата регистрации", "Дата обращения", "ФИО заявителя", "ИИН", "Почтовый адрес",
        "Телефон", "Адресат", "Суть обращения", "Адрес (место)", "Язык", "Оператор", "Услуга"]
TEXTS = ["Мобильный интернет {op} не работает", "{op} интернеті нашар", "Нет связи {op}, звонки срываются",
         "{op} байланысы жоқ", "Интернет {op} очень медленный"]
OPS = ["Tele2", "Beeline", "Kcell", "Altel", "Билайн", "Теле2"]


def write_rows(path: Path, n: int, gazetteer: Gazetteer, seed: int = 14) -> None:
    rnd = random.Random(seed)
    places = [s for s in gazetteer if s.located]
    start = date(2026, 1, 5)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(HEAD)
        for i in range(n):
            s = rnd.choice(places)
            where = rnd.choice([f"с. {s.name_ru}", f"{s.name_kk} ауылы", f"{s.name_ru}, {s.district_name_ru}",
                                f"ауыл {s.name_kk}, {s.district_name_kk}"])
            day = start + timedelta(days=rnd.randrange(300))
            w.writerow(["E-Otinish", f"B-{i:07d}", day.strftime("%d.%m.%Y"), "", f"Bench {i}", "", "bench", "",
                        "Инспекция", rnd.choice(TEXTS).format(op=rnd.choice(OPS)), where, rnd.choice(["рус", "қаз"]),
                        "", ""])


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 100_000
    tmp = Path(tempfile.mkdtemp(prefix="bench-cases-"))
    db = Path(sys.argv[sys.argv.index("--db") + 1]) if "--db" in sys.argv else tmp / "bench.db"
    g = Gazetteer.load()
    csv_path = tmp / "rows.csv"
    t0 = time.perf_counter()
    write_rows(csv_path, n, g)
    print(f"wrote {n} rows to {csv_path} in {time.perf_counter() - t0:.1f} s")
    marks: dict[str, tuple[float, float]] = {}

    def progress(what: str, i: int, total: int) -> None:
        if i == total:
            marks[what] = (time.perf_counter(), time.process_time())

    w0, c0 = time.perf_counter(), time.process_time()
    with open_cases_store(db) as store:
        out = import_file(store, csv_path, by="bench", appeals=appeals(), mapping=load_mapping(), gazetteer=g,
                          progress=progress)
        cases = store.scalar("SELECT COUNT(*) FROM cases_cases")
    w1, c1 = time.perf_counter(), time.process_time()
    wc, cc = marks.get("checking rows", (w1, c1))
    print(f"check (parse, match, extract): {wc - w0:.1f} s wall, {cc - c0:.1f} s CPU")
    print(f"write (one transaction):       {w1 - wc:.1f} s wall, {c1 - cc:.1f} s CPU")
    print(f"total: {w1 - w0:.1f} s wall, {c1 - c0:.1f} s CPU for {out['rows']} rows "
          f"({out['rows'] / (w1 - w0):.0f} rows/s); {out['created']} complaints, {out['needs_person']} need a person, "
          f"{cases} cases; store {db} ({db.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
