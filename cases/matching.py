"""Settlement matching from a free-text address ("Сайрам ауданы, Ақсу ауылы, Абай к-сі 12").

Precision comes first: a confident wrong village sends an inspector to the wrong place. The
matcher therefore answers with a settlement only when one place fits clearly; otherwise it sets
``needs_person`` and lists the candidates for staff to choose from.

How an address is read (details and the measured figures in ``docs/cases-matching.md``):

1. The text is cut into tokens; the words of ``data/address_words.toml`` are recognised in
   Kazakh, Russian and Latin spellings: settlement-type words ("ауылы", "с.", "село", "г.",
   "п.", "ст."), district words ("ауданы", "р-н"), rural okrug words, region words, street and
   house words, and filler words.
2. The words next to a type word are a *marked* name; region, district and okrug names are
   looked up in the KATO units (``data/kato_units.csv``) and the gazetteer. Street names and
   house numbers are dropped. Words left over are *unmarked* names.
3. Names are folded to Latin search keys (:func:`qamtu.mapping.names.search_key`) and scored
   against every settlement's Kazakh, Russian and Latin names and its other names
   (``data/old_names.csv``) with ``rapidfuzz.fuzz.ratio`` and a score cutoff.
4. A named region or district narrows the candidates; a named region or district outside the
   gazetteer, two places scoring within the margin, or a best score under the acceptance
   threshold all give ``needs_person: true``. Thresholds live in ``data/matching.toml``.
"""

from __future__ import annotations

import csv
import re
import tomllib
import unicodedata
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

from rapidfuzz import fuzz, process

from .. import package_path
from ..mapping.gazetteer import Gazetteer, Settlement
from ..mapping.names import KAZAKH_TO_RUSSIAN
from ..mapping.names import search_key as _search_key
from .errors import CasesError

#: Search keys of names and phrases, cached: complaint addresses repeat the same few thousand names.
search_key = lru_cache(maxsize=131072)(_search_key)

#: Tokens: words (letters, inner hyphens/apostrophes, an optional final dot), numbers with
#: their suffixes ("12/3", "5а"), and separators.
_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’ʼ][^\W\d_]+)*\.?|\d+(?:[-/.]?[^\W_]+)*|[,;:()\[\]\n/№\"«»]")
#: Russian adjective endings of district and region names ("Сайрамского" -> "Сайрам").
_ADJ_CYR = re.compile(r"(?:ский|ского|скому|ском|ская|ской|скую|цкий|цкого|цком|цкая|цкой)$")
_ADJ_LAT = re.compile(r"(?:skiy|skii|skij|sky|skogo|skaya|skaia|skoy|skoi)$")
#: Surname endings: a place named after a person is also written with the initial ("Т. Рысқұлов").
_SURNAME = re.compile(r"(?:ов|ев|ин|ова|ева|ина|улы|кызы|ov|ev|in|ova|eva|ina|uly|uli|kyzy)$")
_MARKER_CATEGORIES = ("settlement", "district", "okrug", "region", "street", "house")
_POPULATED = ("city", "settlement_town", "village")
#: Unmarked phrases whose near misses are listed for a person (the first ones: addresses start with places).
_NEAR_PHRASES = 40
#: Longest address accepted (characters): an address, not a whole complaint; Open311 caps descriptions at 4,000.
MAX_ADDRESS_CHARS = 4000


def data_path(name: str) -> Path:
    """A data table shipped with the ``cases`` package."""
    return package_path("cases", "data", name)


@lru_cache(maxsize=65536)
def fold_token(token: str) -> str:
    """Lower case, Kazakh letters as their Russian look-alikes, Latin diacritics dropped ("Қ.Ә." -> "к.а.")."""
    s = unicodedata.normalize("NFC", token).lower().translate(KAZAKH_TO_RUSSIAN).replace("’", "'").replace("ʼ", "'")
    out = []
    for ch in s:
        if "a" <= ch <= "z" or not ("\u00c0" <= ch <= "\u024f"):
            out.append(ch)
        else:
            out.append(unicodedata.normalize("NFKD", ch)[0])
    return "".join(out)


def tokenize(text: str) -> list[str]:
    """The tokens of an address, in order ("с.Ақсу, үй 5" -> ["с.", "Ақсу", ",", "үй", "5"])."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text))


@lru_cache(maxsize=16384)
def unit_key(name: str) -> str:
    """Search key of a district or region name without its type words and adjective ending."""
    words = [w for w in tokenize(name) if w[0].isalpha()]
    unit_words = _unit_words()
    out = []
    for w in words:
        f = fold_token(w)
        if f in unit_words or f.rstrip(".") in unit_words:
            continue
        f = _ADJ_LAT.sub("", _ADJ_CYR.sub("", f))
        out.append(f)
    return search_key("".join(out))


@lru_cache(maxsize=1)
def _unit_words() -> frozenset[str]:
    """Single-token district, okrug and region words of the word table, and the letters of the
    abbreviations "Г.А."/"Қ.Ә." (city administration) as they appear in KATO names."""
    table, _ = load_words()
    words = {seq[0] for seq, markers in table.items() if len(seq) == 1
             and any(m.category in ("district", "region", "okrug") for m in markers)}
    return frozenset(words | {w.rstrip(".") for w in words} | {"г.", "к.", "а.", "г", "к", "а"})


@dataclass(frozen=True)
class Thresholds:
    """Scores are ``rapidfuzz.fuzz.ratio`` values (0-100) of folded search keys; lengths in key letters."""

    cutoff: float
    accept_marked: float
    accept_in_district: float
    accept_unmarked: float
    margin: float
    min_fuzzy_length: int
    old_name_max: float
    unit_accept: float
    max_candidates: int


@dataclass(frozen=True)
class Candidate:
    """A settlement that may be the one meant, with its score (0-100) and how it was found."""

    kato: str
    name_kk: str
    name_ru: str
    district_kato: str
    score: float
    via: str = "name"

    def as_dict(self) -> dict[str, Any]:
        return {"kato": self.kato, "name_kk": self.name_kk, "name_ru": self.name_ru,
                "district_kato": self.district_kato, "score": self.score}


@dataclass(frozen=True)
class Match:
    """The answer for one address: a settlement, or ``needs_person`` with the candidates.

    ``reason`` says why (``matched``, ``ambiguous``, ``low_score``, ``no_match``,
    ``outside_region``, ``outside_district``, ``not_in_named_district``, ``conflicting_names``,
    ``old_name_without_district``).
    """

    kato: Optional[str]
    name_kk: Optional[str]
    name_ru: Optional[str]
    district_kato: Optional[str]
    score: float
    needs_person: bool
    candidates: tuple[Candidate, ...] = ()
    reason: str = "matched"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``qamtu cases match --json`` (exactly these keys)."""
        return {"kato": self.kato, "name_kk": self.name_kk, "name_ru": self.name_ru,
                "district_kato": self.district_kato, "score": self.score, "needs_person": self.needs_person,
                "candidates": [c.as_dict() for c in self.candidates]}


@dataclass(frozen=True)
class _Marker:
    category: str
    side: str            # "before" (name follows) / "after" (name precedes) / "either"
    kind: Optional[str]  # settlement kind hint: city, town, village, station


@dataclass
class _Item:
    kind: str                      # word, marker, num, sep
    raw: str = ""
    norm: str = ""
    markers: tuple[_Marker, ...] = ()
    used: bool = False


@dataclass
class _Reading:
    """What the parser found in one address."""

    regions: list[str] = field(default_factory=list)      # region phrases (raw)
    districts: list[str] = field(default_factory=list)
    okrugs: list[str] = field(default_factory=list)
    #: (words, side, kind hint, leftover words explained by a street or house)
    marked: list[tuple[list[str], str, Optional[str], bool]] = field(default_factory=list)
    unmarked: list[list[str]] = field(default_factory=list)
    street_like: list[list[str]] = field(default_factory=list)   # unmarked words followed by a number


def load_thresholds(path: Path | None = None) -> tuple[Thresholds, dict[str, list[str]]]:
    """Thresholds and region aliases from ``matching.toml``; CasesError naming the file and field."""
    path = path or data_path("matching.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        t = data["thresholds"]
        thresholds = Thresholds(**{k: t[k] for k in Thresholds.__dataclass_fields__})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CasesError(f"{path}: cannot read the matching thresholds ({exc})") from None
    except KeyError as exc:
        raise CasesError(f"{path}: field 'thresholds.{exc.args[0]}' is missing") from None
    except TypeError as exc:
        raise CasesError(f"{path}: [thresholds]: {exc}") from None
    aliases = {k: [str(p) for p in v] for k, v in data.get("region_aliases", {}).items()}
    return thresholds, aliases


def load_words(path: Path | None = None) -> tuple[dict[tuple[str, ...], tuple[_Marker, ...]], set[str]]:
    """The address-word table: token sequence -> markers, and the filler words."""
    path = path or data_path("address_words.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CasesError(f"{path}: cannot read the address words ({exc})") from None
    found: dict[tuple[str, ...], dict[tuple[str, Optional[str]], set[str]]] = {}
    for category in _MARKER_CATEGORIES:
        for key, words in data.get(category, {}).items():
            kind, _, side = key.rpartition("_") if "_" in key else (None, "", key)
            if side not in ("before", "after") or not isinstance(words, list):
                raise CasesError(f"{path}: field '{category}.{key}' must be a list named *before or *after")
            for w in words:
                seq = tuple(fold_token(t) for t in tokenize(w))
                if not seq:
                    raise CasesError(f"{path}: field '{category}.{key}': {w!r} has no letters")
                found.setdefault(seq, {}).setdefault((category, kind or None), set()).add(side)
    table = {}
    for seq, entries in found.items():
        table[seq] = tuple(_Marker(cat, "either" if len(sides) == 2 else next(iter(sides)), kind)
                           for (cat, kind), sides in sorted(entries.items(), key=lambda e: (e[0][0], e[0][1] or "")))
    stop = set()
    for w in data.get("stop", {}).get("words", []):
        seq = tuple(fold_token(t) for t in tokenize(w))
        if len(seq) == 1:
            stop.add(seq[0].rstrip("."))
        elif seq:
            table.setdefault(seq, (_Marker("stop", "either", None),))
    return table, stop


def load_old_names(path: Path | None = None) -> list[tuple[str, str]]:
    """(kato, other name) rows of ``old_names.csv``."""
    path = path or data_path("old_names.csv")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise CasesError(f"{path}: cannot read the old names ({exc})") from None
    for i, row in enumerate(rows, start=2):
        if not row.get("kato") or not row.get("old_name"):
            raise CasesError(f"{path}: line {i}: fields 'kato' and 'old_name' are required")
    return [(r["kato"].strip(), r["old_name"].strip()) for r in rows]


def load_units(path: Path | None = None) -> list[dict[str, str]]:
    """Regions and districts of the whole KATO classifier (to tell a place outside the gazetteer)."""
    path = path or data_path("kato_units.csv")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except OSError as exc:
        raise CasesError(f"{path}: cannot read the KATO units ({exc})") from None


class AddressMatcher:
    """Matches addresses against one gazetteer; build once, call :meth:`match` many times."""

    def __init__(self, gazetteer: Gazetteer, thresholds: Thresholds | None = None,
                 old_names: Iterable[tuple[str, str]] | None = None):
        self.gazetteer = gazetteer
        loaded, self.region_aliases = load_thresholds()
        self.thresholds = thresholds or loaded
        self.words, self.stop = load_words()
        self.max_marker = max(len(k) for k in self.words)
        self.settlements: list[Settlement] = list(gazetteer)
        self._fuzzy_cache: dict[str, tuple[tuple[int, float, str], ...]] = {}
        self._index: dict[str, list[tuple[int, str]]] = {}
        for i, s in enumerate(self.settlements):
            for name in (s.name_kk, s.name_ru, s.name_latin):
                self._add_key(name, i, "name")
            for name in getattr(s, "alt_names", None) or ():
                self._add_key(name, i, "old name")
        by_kato = {s.kato: i for i, s in enumerate(self.settlements)}
        for kato, name in (load_old_names() if old_names is None else old_names):
            if kato in by_kato:
                self._add_key(name, by_kato[kato], "old name")
        self._keys = list(self._index)
        # multi-word names with an address word inside ("Ақ үй"): read as names, not as markers
        self._protected: dict[str, list[tuple[str, ...]]] = {}
        for s in self.settlements:
            for name in (s.name_kk, s.name_ru):
                seq = tuple(fold_token(t) for t in tokenize(name))
                if len(seq) > 1 and any((tok,) in self.words for tok in seq):
                    self._protected.setdefault(seq[0], []).append(seq)
        self.prefixes = {s.kato[:2] for s in self.settlements}
        self._districts_in = self._unit_keys(
            {(s.district_kato, n) for s in self.settlements for n in (s.district_name_kk, s.district_name_ru)})
        units = load_units()
        self._districts_all = self._unit_keys({(u["kato"], u[n]) for u in units if u["level"] == "district"
                                               for n in ("name_kk", "name_ru")})
        regions = {(u["kato"][:2], u[n]) for u in units if u["level"] == "oblast" for n in ("name_kk", "name_ru")}
        self._regions = self._unit_keys(regions)
        for alias, prefixes in self.region_aliases.items():
            for p in prefixes:
                self._regions.setdefault(unit_key(alias), set()).add(p)
        self._okrugs = self._unit_keys({(s.rural_okrug_kato, n) for s in self.settlements if s.rural_okrug_kato
                                        for n in (s.rural_okrug_name_kk, s.rural_okrug_name_ru) if n})

    def _add_key(self, name: Optional[str], index: int, via: str) -> None:
        """Index a name, and for a two-or-more-word name also its initial form ("Т. Рысқұлов")."""
        if not name:
            return
        words = [w for w in tokenize(name) if w[0].isalpha()]
        variants = [name]
        if len(words) >= 2 and len(words[0].rstrip(".")) > 1 and _SURNAME.search(fold_token(words[-1])):
            variants.append(words[0][0] + " " + " ".join(words[1:]))
        for variant in variants:
            key = search_key(variant)
            if not key:
                continue
            hits = self._index.setdefault(key, [])
            if all(h[0] != index for h in hits):
                hits.append((index, via))

    @staticmethod
    def _unit_keys(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for code, name in pairs:
            key = unit_key(name)
            if key:
                out.setdefault(key, set()).add(code)
        return out

    # -- reading -------------------------------------------------------------------------------

    def _items(self, text: str) -> list[_Item]:
        tokens = tokenize(text)
        folded = [fold_token(t) for t in tokens]
        items: list[_Item] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            protected = next((seq for seq in self._protected.get(folded[i], ())
                              if tuple(folded[i:i + len(seq)]) == seq), None)
            if protected:
                items.extend(_Item("word", tokens[j], folded[j]) for j in range(i, i + len(protected)))
                i += len(protected)
                continue
            if tok[0].isalpha():
                for n in range(min(self.max_marker, len(tokens) - i), 0, -1):
                    markers = self.words.get(tuple(folded[i:i + n]))
                    if markers and all(m.category == "stop" for m in markers):
                        items.append(_Item("sep", " ".join(tokens[i:i + n])))
                        i += n
                        break
                    if markers:
                        items.append(_Item("marker", " ".join(tokens[i:i + n]), markers=markers))
                        i += n
                        break
                else:
                    kind = "sep" if folded[i].rstrip(".") in self.stop else "word"
                    items.append(_Item(kind, tok, folded[i]))
                    i += 1
            else:
                items.append(_Item("num" if tok[0].isdigit() else "sep", tok))
                i += 1
        return items

    def _run(self, items: list[_Item], start: int, step: int) -> list[int]:
        """Indices of the free words next to a marker, nearest first, at most 3."""
        out: list[int] = []
        j = start
        while 0 <= j < len(items) and items[j].kind == "word" and not items[j].used and len(out) < 3:
            out.append(j)
            j += step
        return out

    def _explained(self, items: list[_Item], j: int) -> bool:
        """Whether the item beyond a name run explains the leftover words (a street or house)."""
        if not 0 <= j < len(items):
            return False
        it = items[j]
        return it.kind == "num" or (it.kind == "marker" and any(m.category in ("street", "house") for m in it.markers))

    def _read(self, text: str) -> _Reading:
        items = self._items(text)
        reading = _Reading()
        for category in ("region", "district", "okrug", "settlement", "street", "house"):
            for p, item in enumerate(items):
                if item.kind != "marker":
                    continue
                markers = [m for m in item.markers if m.category == category]
                if not markers:
                    continue
                sides = {m.side for m in markers}
                if "either" in sides or sides == {"before", "after"}:
                    side = self._either_side(category, items, p)
                else:
                    side = next(iter(sides))
                if category == "house":
                    if side == "before" and p + 1 < len(items) and items[p + 1].kind == "num":
                        items[p + 1].used = True
                    continue
                run = self._run(items, p - 1, -1) if side == "after" else self._run(items, p + 1, 1)
                if not run:
                    continue
                if category == "street":
                    for j in run:
                        items[j].used = True
                    continue
                take = self._best_span(category, [items[j].raw for j in run], side)
                for j in run[:take]:
                    items[j].used = True
                words = [items[j].raw for j in run[:take]]
                if side == "after":
                    words.reverse()
                if category == "region":
                    reading.regions.append(" ".join(words))
                elif category == "district":
                    reading.districts.append(" ".join(words))
                elif category == "okrug":
                    reading.okrugs.append(" ".join(words))
                else:
                    leftover = take < len(run)
                    explained = not leftover or self._explained(items, run[-1] + (-1 if side == "after" else 1))
                    kind = next((m.kind for m in markers if m.kind), None)
                    reading.marked.append((words, side, kind, explained))
        free: list[str] = []
        for item in items + [_Item("sep")]:
            if item.kind == "word" and not item.used:
                free.append(item.raw)
            elif free:
                # words right before a number read like a street and house ("Абай 12"): used last
                (reading.street_like if item.kind == "num" else reading.unmarked).append(free)
                free = []
        return reading

    def _either_side(self, category: str, items: list[_Item], p: int) -> str:
        """For a word that may stand on either side of its name ("район", "аул"): ``"after"`` when
        the name precedes the word ("Сайрам район"), ``"before"`` when it follows ("район Сауран").
        With free words on both sides, the side whose words score better wins (ties: preceding)."""
        before = [items[j].raw for j in self._run(items, p - 1, -1)]
        after = [items[j].raw for j in self._run(items, p + 1, 1)]
        if not before or not after:
            return "after" if before else "before"
        score_before = self._span_score(category, before[:self._best_span(category, before, "after")], "after")
        score_after = self._span_score(category, after[:self._best_span(category, after, "before")], "before")
        return "before" if score_after > score_before else "after"

    def _span_score(self, category: str, words_nearest_first: list[str], side: str) -> float:
        phrase = " ".join(reversed(words_nearest_first) if side == "after" else words_nearest_first)
        if category == "settlement":
            return max((h[1] for h in self._lookup(search_key(phrase))), default=-1.0)
        table = {"region": self._regions, "district": self._districts_all, "okrug": self._okrugs}[category]
        score = self._unit_score(unit_key(phrase), table)[0]
        if category == "district":
            score = max(score, self._unit_score(unit_key(phrase), self._districts_in)[0])
        return score

    def _best_span(self, category: str, words_nearest_first: list[str], side: str) -> int:
        """How many of the words next to a marker form the name (the best-scoring span; longer on ties)."""
        best_n, best_score = 1, -1.0
        for n in range(1, len(words_nearest_first) + 1):
            score = self._span_score(category, words_nearest_first[:n], side)
            if score >= best_score and score >= 0:
                best_n, best_score = n, score
        return best_n

    # -- scoring -------------------------------------------------------------------------------

    def _lookup(self, key: str) -> tuple[tuple[int, float, str], ...]:
        """(settlement index, score 0-100, via) for one folded key, exact and fuzzy (cached)."""
        if len(key) < 3:
            return ()
        cached = self._fuzzy_cache.get(key)
        if cached is not None:
            return cached
        t = self.thresholds
        best: dict[int, tuple[float, str]] = {}
        for idx, via in self._index.get(key, ()):
            best[idx] = (t.old_name_max if via == "old name" else 100.0, via)
        if len(key) >= t.min_fuzzy_length:
            for other, score, _ in process.extract(key, self._keys, scorer=fuzz.ratio, score_cutoff=t.cutoff,
                                                   limit=20):
                if other == key or len(other) < t.min_fuzzy_length:
                    continue
                for idx, via in self._index[other]:
                    s = min(score, t.old_name_max) if via == "old name" else score
                    if s > best.get(idx, (-1.0, ""))[0]:
                        best[idx] = (s, via)
        result = tuple((idx, round(score, 1), via) for idx, (score, via) in best.items())
        if len(self._fuzzy_cache) > 200_000:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[key] = result
        return result

    def _unit_score(self, key: str, table: dict[str, set[str]]) -> tuple[float, set[str]]:
        """Best score of a unit phrase against a unit table, and the codes scoring it."""
        if not key:
            return -1.0, set()
        if key in table:
            return 100.0, set(table[key])
        hit = process.extractOne(key, list(table), scorer=fuzz.ratio, score_cutoff=self.thresholds.unit_accept)
        if hit is None:
            return -1.0, set()
        return hit[1], set(table[hit[0]])

    def _resolve_units(self, phrases: list[str], inside: dict[str, set[str]],
                       everywhere: dict[str, set[str]] | None) -> tuple[set[str], bool]:
        """Codes of the named units inside the gazetteer, and whether a named unit lies outside it."""
        codes: set[str] = set()
        outside = False
        for phrase in phrases:
            key = unit_key(phrase)
            score_in, found_in = self._unit_score(key, inside)
            score_all, found_all = self._unit_score(key, everywhere) if everywhere is not None else (-1.0, set())
            if found_in and score_in >= score_all:
                codes |= found_in
            elif found_all:
                outside = True
        return codes, outside

    def match(self, text: str) -> Match:
        """The settlement an address names, or ``needs_person`` with candidates (see the module doc)."""
        t = self.thresholds
        reading = self._read(text)
        # regions
        region_prefixes: set[str] = set()
        region_outside = False
        for phrase in reading.regions:
            score, prefixes = self._unit_score(unit_key(phrase), self._regions)
            if prefixes:
                if prefixes & self.prefixes:
                    region_prefixes |= prefixes & self.prefixes
                else:
                    region_outside = True
        districts, district_outside = self._resolve_units(reading.districts, self._districts_in, self._districts_all)
        if region_prefixes and districts:
            districts = {d for d in districts if d[:2] in region_prefixes} or districts
        okrugs, _ = self._resolve_units(reading.okrugs, self._okrugs, None)

        # candidates: kato index -> (score, marked, via, kinds)
        scores: dict[int, list[Any]] = {}
        marked_unmatched = False
        unexplained = False
        for words, side, kind, explained in reading.marked:
            hits = self._lookup(search_key(" ".join(words)))
            if not any(h[1] >= t.cutoff for h in hits):
                marked_unmatched = True
            for idx, score, via in hits:
                entry = scores.setdefault(idx, [0.0, False, via, set()])
                if score > entry[0] or not entry[1]:
                    entry[0], entry[2] = max(score, entry[0] if entry[1] else 0.0), via
                entry[1] = True
                if kind:
                    entry[3].add(kind)
                if not explained:
                    unexplained = True
        has_marked = any(e[1] for e in scores.values())
        if not has_marked:
            # unmarked names count only when exact; near misses of the first few phrases are listed
            keys: list[str] = []
            for runs in (reading.unmarked, reading.street_like):
                found = [search_key(" ".join(run[k:k + n])) for run in runs
                         for n in range(1, min(3, len(run)) + 1) for k in range(len(run) - n + 1)]
                found = [k for k in dict.fromkeys(found) if len(k) >= 4]
                keys += found
                for key in found:
                    for idx, via in self._index.get(key, ()):
                        score = t.old_name_max if via == "old name" else 100.0
                        entry = scores.setdefault(idx, [0.0, False, via, set()])
                        entry[0] = max(entry[0], score)
                if scores:
                    break
            if not scores:
                for key in keys[:_NEAR_PHRASES]:
                    for idx, score, via in self._lookup(key):
                        entry = scores.setdefault(idx, [0.0, False, via, set()])
                        entry[0] = max(entry[0], score)
        cands = sorted(((v[0], self.settlements[i], v[2], v[3]) for i, v in scores.items() if v[0] >= t.cutoff),
                       key=lambda c: (-c[0], c[1].kato))
        all_cands = cands

        def answer(reason: str, chosen: Optional[tuple] = None, listed: Optional[list] = None) -> Match:
            listed = all_cands if listed is None else listed
            out = tuple(Candidate(s.kato, s.name_kk, s.name_ru, s.district_kato, float(sc), via)
                        for sc, s, via, _ in listed[:t.max_candidates])
            if chosen is None:
                top = float(listed[0][0]) if listed else 0.0
                return Match(None, None, None, None, top, True, out, reason)
            sc, s, _, _ = chosen
            return Match(s.kato, s.name_kk, s.name_ru, s.district_kato, float(sc), False, out, reason)

        if region_outside and not region_prefixes:
            return answer("outside_region")
        if district_outside and not districts:
            return answer("outside_district")
        if region_prefixes:
            cands = [c for c in cands if c[1].kato[:2] in region_prefixes]
        if districts:
            inside = [c for c in cands if c[1].district_kato in districts]
            if not inside:
                return answer("not_in_named_district" if cands else "no_match")
            cands = inside
        if okrugs:
            cands = [c for c in cands if c[1].rural_okrug_kato in okrugs] or cands
        if not cands:
            return answer("outside_region" if region_outside else "no_match")
        top_score = cands[0][0]
        group = [c for c in cands if c[0] > top_score - t.margin]
        if len(group) > 1:
            group = self._narrow(group)
        if len(group) > 1:
            return answer("ambiguous", listed=cands)
        chosen = group[0]
        accept = t.accept_marked if has_marked else t.accept_unmarked
        if districts and has_marked:
            accept = min(accept, t.accept_in_district)
        if chosen[2] == "old name":
            accept = min(accept, t.old_name_max)
        if chosen[0] < accept:
            return answer("low_score", listed=cands)
        if chosen[2] == "old name" and not districts:
            return answer("old_name_without_district", listed=cands)
        if marked_unmatched or unexplained:
            return answer("conflicting_names", listed=cands)
        if region_outside:
            return answer("outside_region", listed=cands)
        return answer("matched", chosen, [chosen] + [c for c in cands if c is not chosen])

    @staticmethod
    def _narrow(group: list[tuple]) -> list[tuple]:
        """Choose within places scoring alike.

        A place beats a differently named town or city whose district holds it ("г. Кентау,
        с. Хантағы": the text names the town as the district). A type word chooses by kind only
        where it is unmistakable: "г."/"қаласы" a city, "ст." a station; "ауылы", "с.", "п." only
        set stations and other non-populated objects aside (people call small towns "ауыл").
        """
        def names(s: Settlement) -> set[str]:
            return {search_key(s.name_kk), search_key(s.name_ru)}

        towns = [c[1] for c in group if c[1].kind in ("city", "settlement_town")]
        inner = [c for c in group if c[1].kind not in ("city", "settlement_town")
                 and any(t.district_kato == c[1].district_kato and not names(t) & names(c[1]) for t in towns)]
        if inner:
            group = inner
        kinds = set().union(*(c[3] for c in group))
        if len(kinds) == 1:
            wanted = {"city": ("city",), "station": ("railway_station",)}.get(next(iter(kinds)), _POPULATED)
            only = [c for c in group if c[1].kind in wanted]
            if only:
                group = only
        return group


_MATCHERS: "weakref.WeakKeyDictionary[Gazetteer, AddressMatcher]" = weakref.WeakKeyDictionary()


def matcher_for(gazetteer: Gazetteer) -> AddressMatcher:
    """The cached matcher of a gazetteer (the index is built once per gazetteer object)."""
    m = _MATCHERS.get(gazetteer)
    if m is None:
        m = _MATCHERS[gazetteer] = AddressMatcher(gazetteer)
    return m


def match_address(text: str, gazetteer: Gazetteer | None = None) -> Match:
    """Match one free-text address against a gazetteer (default: the bundled one).

    Returns a :class:`Match`: a settlement with ``needs_person=False`` only when one place fits
    clearly; otherwise ``needs_person=True`` with the candidates for staff to choose from.
    """
    if not isinstance(text, str):
        raise CasesError(f"address must be text, got {type(text).__name__}")
    if len(text) > MAX_ADDRESS_CHARS:
        raise CasesError(f"address is {len(text)} characters, more than {MAX_ADDRESS_CHARS}: "
                         "give the address field, not the whole complaint")
    return matcher_for(gazetteer or Gazetteer.load()).match(text)
