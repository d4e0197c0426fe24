"""Build the labelled address set ``tests/fixtures/addresses_labelled.csv`` (columns text, expected_kato, note).

Run from the repository root: ``python bench/make_address_set.py [KATO_CSV]``. The KATO CSV is the
whole classifier (default ``/work/shared/data/kato.csv``, described in ``data/sources/SOURCES.md``);
the settlements come from the bundled ``settlements.geojson``; the output is the same on every run
(seeded). Hand-written rows are read from ``tests/fixtures/addresses_handwritten.csv`` and appended.

Labels are KATO codes; an empty ``expected_kato`` means "a person must choose". The rules keep the
labels true whether the gazetteer holds Turkistan region only or the four regions of the office
(Shymkent 79, Zhambyl 31, Turkistan 61, Kyzylorda 43):

- ``district``: a Turkistan settlement with its district named: labelled with its code when its
  name is unique in that district, else empty.
- ``no-district``: no district named: labelled only when the folded name is unique among all
  settlements of the four regions (so a same-name village in Zhambyl cannot make it ambiguous
  later); names repeated inside Turkistan region give ``ambiguous`` rows labelled empty; names
  unique in Turkistan but repeated in another of the four regions are not used.
- ``typo``: one letter dropped, doubled or swapped with its neighbour in a name of 7+ letters,
  district named; labelled with the code (a typo that makes another name of the district is skipped).
- ``latin``: Kazakh name in Latin letters (English-style or the 2021 Kazakh Latin alphabet).
- ``lookalike``: Kazakh letters typed as their Russian look-alikes (Шұбарсу -> Шубарсу).
- ``prose``: the address inside a sentence of a complaint.
- ``old-name``: a name from ``cases/data/old_names.csv`` (GeoNames via Who's On First), district
  named; labelled with the settlement it was linked to.
- ``outside``: villages of Almaty (19) and Kostanay (39) regions whose folded names are not within
  a fuzzy score of 80 of any name of the four regions, with and without their region: empty.
- ``street-only``: street, microdistrict and house without a settlement: empty.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "mapping"))
from names import KAZAKH_TO_RUSSIAN, clean_kato_name, search_key  # noqa: E402  (run as a script)

OUT = ROOT / "tests" / "fixtures" / "addresses_labelled.csv"
HAND = ROOT / "tests" / "fixtures" / "addresses_handwritten.csv"
FOUR = ("79", "31", "61", "43")
STREETS_KK = ["Абай", "Төле би", "Қонаев", "Жамбыл", "Әл-Фараби", "Бейбітшілік", "Тәуелсіздік", "Достық",
              "Байтұрсынұлы", "Момышұлы", "Жібек жолы", "Жастар"]
STREETS_RU = ["Абая", "Толе би", "Кунаева", "Жамбыла", "Аль-Фараби", "Мира", "Независимости", "Дружбы",
              "Ленина", "Советская", "Молодёжная", "Школьная"]
LAT_EN = {"ә": "a", "ғ": "gh", "қ": "q", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
          "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
          "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
          "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh",
          "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya"}
LAT_2021 = dict(LAT_EN, **{"ә": "ä", "ғ": "ğ", "ң": "ñ", "ө": "ö", "ұ": "ū", "ү": "ü", "і": "ı", "ж": "j",
                           "ш": "ş", "ч": "ç", "й": "i", "у": "u", "ы": "y", "х": "h"})


def latin(text: str, table: dict[str, str]) -> str:
    out = []
    for ch in text:
        low = ch.lower()
        rep = table.get(low, ch)
        out.append(rep.capitalize() if ch != low and rep else rep)
    return "".join(out)


def typo(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name) - 1)
    op = rng.choice(["drop", "double", "swap"])
    if op == "drop":
        return name[:i] + name[i + 1:]
    if op == "double":
        return name[:i] + name[i] + name[i:]
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def genitive_district_ru(name_ru: str) -> str:
    """'Сайрамский район' -> 'Сайрамского района'; other forms unchanged plus 'района'."""
    if name_ru.endswith("ский район"):
        return name_ru[: -len("ский район")] + "ского района"
    return name_ru


def main(kato_csv: Path) -> None:
    rng = random.Random(20261129)
    features = json.loads((ROOT / "settlements.geojson").read_text(encoding="utf-8"))["features"]
    # populated places only: the texts below name them with "ауылы", "с." and the like, which set
    # railway stations and other objects of the same name aside (see cases/matching.py)
    gaz = [f["properties"] for f in features if f["properties"]["kind"] in ("city", "settlement_town", "village")]
    rows = list(csv.DictReader(kato_csv.open(encoding="utf-8", newline="")))
    four = [r for r in rows if r["kato"][:2] in FOUR
            and (r["level"] == "settlement" or (r["level"] in ("sub_district", "oblast") and r["type_code"] == "1"
                                                  and "аудан" not in r["name_kk"]))]
    keys_four: dict[str, set[str]] = defaultdict(set)
    for r in four:
        for n in (r["name_kk"], r["name_ru"]):
            keys_four[search_key(clean_kato_name(n))].add(r["kato"])
    by_district: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for p in gaz:
        for n in (p["name_kk"], p["name_ru"]):
            by_district[p["district_kato"]][search_key(n)].add(p["kato"])
    keys_gaz: dict[str, set[str]] = defaultdict(set)
    for p in gaz:
        for n in (p["name_kk"], p["name_ru"]):
            keys_gaz[search_key(n)].add(p["kato"])

    def unique_in_district(p: dict, key: str) -> bool:
        """The name (this key and both names of the place) belongs to no other place of the district."""
        keys = {key, search_key(p["name_kk"]), search_key(p["name_ru"])}
        return all(by_district[p["district_kato"]].get(k, set()) <= {p["kato"]} for k in keys)

    def unique_in_four(p: dict) -> bool:
        return all(keys_four.get(search_key(n), set()) <= {p["kato"]} for n in (p["name_kk"], p["name_ru"]))

    out: list[tuple[str, str, str]] = []
    villages = [p for p in gaz if p["kind"] in ("village", "settlement_town", "city")]
    rng.shuffle(villages)
    street = lambda lang: rng.choice(STREETS_KK if lang == "kk" else STREETS_RU)  # noqa: E731
    house = lambda: str(rng.randint(1, 120))  # noqa: E731

    # district named (kk, ru, mixed), 90 rows
    for p in villages[:90]:
        key = search_key(p["name_kk"])
        label = p["kato"] if unique_in_district(p, key) else ""
        d_kk, d_ru = p["district_name_kk"], p["district_name_ru"]
        form = rng.randrange(4)
        if form == 0:
            text = f"Түркістан облысы, {d_kk}, {p['name_kk']} ауылы, {street('kk')} көшесі, {house()}"
        elif form == 1:
            text = f"Туркестанская обл., {d_ru}, с. {p['name_ru']}, ул. {street('ru')}, д. {house()}"
        elif form == 2:
            text = f"{d_kk} {p['name_kk']} а. {street('kk')} к-сі {house()} үй"
        else:
            text = f"{d_ru}, с.{p['name_ru']} ул.{street('ru')} {house()}"
        out.append((text, label, f"district: form {form}"))
    # no district: unique in the four regions, 50 rows
    uniq = [p for p in villages[90:] if unique_in_four(p)]
    for p in uniq[:50]:
        form = rng.randrange(3)
        text = (f"{p['name_kk']} ауылы, {street('kk')} көшесі {house()}" if form == 0 else
                f"с. {p['name_ru']}, ул. {street('ru')}, {house()}" if form == 1 else f"аул {p['name_ru']}")
        out.append((text, p["kato"], f"no-district: unique in the four regions, form {form}"))
    # ambiguous inside the gazetteer: with and without the district
    dup_keys = [k for k, v in keys_gaz.items() if len({next(q["district_kato"] for q in gaz if q["kato"] == c)
                                                          for c in v}) > 1]
    rng.shuffle(dup_keys)
    for key in dup_keys[:20]:
        places = [q for q in gaz if q["kato"] in keys_gaz[key]]
        p = places[0]
        out.append((f"{p['name_kk']} ауылы", "", f"ambiguous: {len(places)} places, no district"))
        ru = p["name_kk"].translate(KAZAKH_TO_RUSSIAN)
        out.append((f"с. {ru}, ул. {street('ru')} {house()}", "", "ambiguous: no district, with street"))
        q = rng.choice(places)
        label = q["kato"] if unique_in_district(q, key) else ""
        out.append((f"{q['district_name_kk']}, {q['name_kk']} ауылы", label, "ambiguous name, district named (kk)"))
        out.append((f"{q['district_name_ru']}, с. {q['name_kk'].translate(KAZAKH_TO_RUSSIAN)}", label,
                    "ambiguous name, district named (ru)"))
    # typos, district named
    long = [p for p in villages[140:] if len(p["name_ru"]) >= 7 and " " not in p["name_ru"]]
    n = 0
    for p in long:
        if n >= 40:
            break
        name = typo(p["name_ru"] if n % 2 else p["name_kk"], rng)
        key = search_key(name)
        if key in by_district[p["district_kato"]] or not unique_in_district(p, search_key(p["name_kk"])):
            continue
        district = p["district_name_ru"] if n % 2 else p["district_name_kk"]
        marker = "с." if n % 2 else "ауылы"
        text = f"{district}, {marker} {name}" if n % 2 else f"{district}, {name} {marker}"
        out.append((text, p["kato"], f"typo: {p['name_kk']} -> {name}"))
        n += 1
    # Latin, district named
    for i, p in enumerate(villages[200:240]):
        table = LAT_EN if i % 2 else LAT_2021
        d = latin(p["district_name_kk"].replace(" ауданы", ""), table)
        label = p["kato"] if unique_in_district(p, search_key(p["name_kk"])) else ""
        d_word = "district" if i % 2 else "audany"
        out.append((f"{latin(p['name_kk'], table)} auyly, {d} {d_word}", label,
                    "latin: " + ("English-style" if i % 2 else "Kazakh Latin 2021")))
    # look-alike letters, district named
    looks = [p for p in villages[240:] if p["name_kk"].translate(KAZAKH_TO_RUSSIAN) != p["name_kk"]]
    for p in looks[:25]:
        label = p["kato"] if unique_in_district(p, search_key(p["name_kk"])) else ""
        out.append((f"{p['district_name_kk'].translate(KAZAKH_TO_RUSSIAN)}, {p['name_kk'].translate(KAZAKH_TO_RUSSIAN)}"
                    f" ауылы", label, "lookalike: Russian letters for Kazakh ones"))
    # prose
    for p in villages[270:295]:
        label = p["kato"] if unique_in_district(p, search_key(p["name_ru"])) else ""
        if rng.random() < 0.5:
            text = f"Нет связи в селе {p['name_ru']} {genitive_district_ru(p['district_name_ru'])}, Билайн не ловит"
        else:
            text = f"{p['district_name_kk']} {p['name_kk']} ауылында интернет жоқ, Kcell ұстамайды"
        out.append((text, label, "prose: address inside a complaint sentence"))
    # old names
    gaz_by_kato = {p["kato"]: p for p in gaz}
    with (ROOT / "cases" / "data" / "old_names.csv").open(encoding="utf-8", newline="") as fh:
        olds = [r for r in csv.DictReader(fh) if r["kato"] in gaz_by_kato]
    rng.shuffle(olds)
    n = 0
    for r in olds:
        key = search_key(r["old_name"])
        p = gaz_by_kato[r["kato"]]
        if key in keys_four or len(key) < 5 or n >= 15:
            continue
        marker = "пос." if n % 2 else "с."
        out.append((f"{p['district_name_ru']}, {marker} {r['old_name']}", r["kato"], f"old-name: {r['old_name']} = "
                    f"{p['name_kk']}"))
        n += 1
    # outside the four regions
    all_four = list(keys_four)
    outside = [r for r in rows if r["kato"][:2] in ("19", "39") and r["level"] == "settlement"]
    rng.shuffle(outside)
    region = {"19": ("Алматинская обл.", "Алматы облысы"), "39": ("Костанайская обл.", "Қостанай облысы")}
    n = 0
    for r in outside:
        name_ru, name_kk = clean_kato_name(r["name_ru"]), clean_kato_name(r["name_kk"])
        key = search_key(name_ru)
        if len(key) < 5 or process.extractOne(key, all_four, scorer=fuzz.ratio, score_cutoff=80) is not None:
            continue
        if n >= 30:
            break
        form = n % 3
        text = (f"{region[r['kato'][:2]][0]}, с. {name_ru}, ул. {street('ru')} {house()}" if form == 0 else
                f"{region[r['kato'][:2]][1]}, {name_kk} ауылы" if form == 1 else f"с. {name_ru}")
        out.append((text, "", f"outside: KATO {r['kato']}" + (", no region" if form == 2 else "")))
        n += 1
    # street only
    for i in range(15):
        text = (f"ул. {street('ru')} {house()}, кв. {rng.randint(1, 80)}" if i % 3 == 0 else
                f"{street('kk')} көшесі, {house()} үй" if i % 3 == 1 else f"мкр. Нурсат, д. {house()}")
        out.append((text, "", "street-only"))
    with HAND.open(encoding="utf-8", newline="") as fh:
        hand = [(r["text"], r["expected_kato"], "hand: " + r["note"]) for r in csv.DictReader(fh)]
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["text", "expected_kato", "note"])
        w.writerows(out + hand)
    print(f"{OUT}: {len(out)} generated + {len(hand)} hand-written rows")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data/kato.csv"))
