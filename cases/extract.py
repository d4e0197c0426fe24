"""Operators and services named in a complaint's text, from the data table ``data/operators.toml``.

The result is a list of *candidates* with the words that matched; staff confirm them when the
complaint is registered. Nothing here decides on its own: a brand name in a complaint may name the
operator complained about or one that works fine ("Kcell ұстамайды, Beeline бар").

Matching is by whole words after folding (lower case, Kazakh letters as their Russian
look-alikes, "ё" as "е"); a table keyword ending in ``*`` also matches longer words starting with
it, which covers Russian and Kazakh endings ("Билайна", "Казпочты", "поштасы"). No keyword counts
inside a ``[not_keywords]`` phrase ("в связи с" is "because of", not "связь"). The table is filed
by keyword start once (:class:`_Index`), so one text costs a scan of its word starts.
"""

from __future__ import annotations

import re
import unicodedata
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from .errors import CasesError
from .matching import data_path, fold_token

SERVICES = ("mobile_voice", "mobile_internet", "fixed_internet", "tv_radio", "post")


@dataclass(frozen=True)
class Found:
    """One candidate operator or service: its code, display name, the words of the text that
    matched it, and whether only weak words (common words as well as brand words) matched."""

    code: str
    name: str
    words: tuple[str, ...]
    weak: bool = False
    via: str = "keyword"   # keyword, or "operator" for a service implied by the operator named

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "words": list(self.words), "weak": self.weak, "via": self.via}


@dataclass(frozen=True)
class Extraction:
    """Operators (with their MCC-MNC codes in the table) and services found in one text."""

    operators: tuple[Found, ...]
    services: tuple[Found, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"operators": [f.as_dict() for f in self.operators], "services": [f.as_dict() for f in self.services]}


@dataclass(frozen=True)
class _Entry:
    code: str
    name: str
    strong: tuple[re.Pattern, ...]
    weak: tuple[re.Pattern, ...]
    services: tuple[str, ...] = ()
    mcc_mnc: tuple[str, ...] = ()


def _fold(text: str) -> str:
    return " ".join(fold_token(w) for w in text.split())


def _fold_same_length(text: str) -> str:
    """The text folded character by character, so positions in it are positions in ``text``."""
    folded = fold_token.__wrapped__(text)
    if len(folded) != len(text):      # a letter whose lower case is longer (rare): fold one by one
        folded = "".join(f if len(f := fold_token.__wrapped__(ch)) == 1 else ch for ch in text)
    return folded


def _pattern(keyword: str, where: str) -> re.Pattern:
    kw = keyword.strip()
    prefix = kw.endswith("*")
    kw = _fold(kw.rstrip("*"))
    if not kw:
        raise CasesError(f"{where}: empty keyword")
    body = r"\s+".join(re.escape(part) for part in kw.split())
    return re.compile(_LEAD + body + (r"[\w-]*" if prefix else r"(?![\w])"))


_LEAD = r"(?<![\w])"          # every keyword pattern starts at a word start
_WORD_START = re.compile(r"(?<!\w)\w")


class _Index:
    """Every keyword pattern of the table, filed under the first two letters of its keyword.

    A keyword pattern can only match where a word starts (its first letter follows no letter), so
    the text is scanned once for word starts and only the patterns filed under the two letters found
    there are tried: a few pattern tests per word instead of every pattern over the whole text (the
    table has about 200). The result is the same as running each pattern's ``finditer`` over the
    text: one pattern's matches do not overlap, different patterns' matches may."""

    def __init__(self, patterns: list[tuple[re.Pattern, Any]]) -> None:
        self.by_start: dict[str, list[tuple[int, re.Pattern, Any]]] = {}
        self.anywhere: list[tuple[re.Pattern, Any]] = []   # a keyword not starting with a letter
        for number, (pattern, tag) in enumerate(patterns):
            lead = pattern.pattern[len(_LEAD):][:2] if pattern.pattern.startswith(_LEAD) else ""
            if len(lead) == 2 and lead.isalnum():
                self.by_start.setdefault(lead, []).append((number, pattern, tag))
            elif lead[:1].isalnum() or lead[:1] == "_":
                self.by_start.setdefault(lead[:1], []).append((number, pattern, tag))
            else:
                self.anywhere.append((pattern, tag))
        self.keys = {len(k) for k in self.by_start}

    def hits(self, folded: str) -> list[tuple[Any, int, int]]:
        """(tag, start, end) of every match in ``folded``, pattern by pattern non-overlapping."""
        out: list[tuple[Any, int, int]] = []
        ends: dict[int, int] = {}
        for m in _WORD_START.finditer(folded):
            i = m.start()
            for size in self.keys:
                for number, pattern, tag in self.by_start.get(folded[i:i + size], ()):
                    if ends.get(number, -1) > i:
                        continue
                    hit = pattern.match(folded, i)
                    if hit and hit.end() > i:
                        ends[number] = hit.end()
                        out.append((tag, i, hit.end()))
        for pattern, tag in self.anywhere:
            out.extend((tag, h.start(), h.end()) for h in pattern.finditer(folded))
        return out


@dataclass(frozen=True)
class ExtractTable:
    """The loaded ``operators.toml``: operators, services, the generic internet words, and the
    ``[not_keywords]`` phrases inside which no keyword counts ("в связи с" is not "связь")."""

    operators: tuple[_Entry, ...]
    services: tuple[_Entry, ...]
    internet: tuple[re.Pattern, ...]
    mcc_mnc: dict[str, tuple[str, ...]]
    masks: tuple[re.Pattern, ...] = ()
    index: Optional[_Index] = field(default=None, compare=False, repr=False)


def _build_index(operators: tuple[_Entry, ...], services: tuple[_Entry, ...],
                 internet: tuple[re.Pattern, ...]) -> _Index:
    tagged: list[tuple[re.Pattern, Any]] = []
    for group, entries in (("operators", operators), ("services", services)):
        for n, e in enumerate(entries):
            tagged += [(p, (group, n, True)) for p in e.strong] + [(p, (group, n, False)) for p in e.weak]
    tagged += [(p, ("internet", 0, True)) for p in internet]
    return _Index(tagged)


def load_table(path: Path | None = None) -> ExtractTable:
    """Read and check the table; CasesError naming the file and field."""
    path = path or data_path("operators.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CasesError(f"{path}: cannot read the operator table ({exc})") from None

    def entries(section: str) -> tuple[_Entry, ...]:
        out = []
        for code, e in data.get(section, {}).items():
            where = f"{path}: field '{section}.{code}'"
            if not isinstance(e, dict) or not e.get("keywords"):
                raise CasesError(f"{where}: needs a non-empty 'keywords' list")
            services = tuple(e.get("services", ()))
            bad = [s for s in services if s not in SERVICES]
            if bad:
                raise CasesError(f"{where}.services: unknown {bad}; valid: {', '.join(SERVICES)}")
            out.append(_Entry(code, e.get("name") or e.get("name_ru") or code,
                              tuple(_pattern(k, where) for k in e["keywords"]),
                              tuple(_pattern(k, where) for k in e.get("weak_keywords", ())), services,
                              tuple(e.get("mcc_mnc", ()))))
        return tuple(out)

    services = entries("services")
    unknown = {e.code for e in services} - set(SERVICES)
    if unknown:
        raise CasesError(f"{path}: unknown services {sorted(unknown)}; valid: {', '.join(SERVICES)}")
    operators = entries("operators")
    generic = data.get("generic_internet", {}).get("keywords", ())
    internet = tuple(_pattern(k, f"{path}: generic_internet") for k in generic)
    masks = tuple(_pattern(k, f"{path}: not_keywords") for k in data.get("not_keywords", {}).get("keywords", ()))
    return ExtractTable(operators, services, internet, {e.code: e.mcc_mnc for e in operators}, masks,
                        _build_index(operators, services, internet))


@lru_cache(maxsize=1)
def default_table() -> ExtractTable:
    return load_table()


def _words(found: list[tuple[int, str]]) -> list[str]:
    """The matched words in text order, once each."""
    out: list[str] = []
    for _, word in sorted(found):
        if word not in out:
            out.append(word)
    return out


def extract(text: str, table: ExtractTable | None = None) -> Extraction:
    """Candidate operators and services named in ``text`` (Kazakh, Russian or Latin), with the words."""
    if not isinstance(text, str):
        raise CasesError(f"complaint text must be text, got {type(text).__name__}")
    table = table or default_table()
    index = table.index or _build_index(table.operators, table.services, table.internet)
    text = unicodedata.normalize("NFC", text)
    folded = _fold_same_length(text)
    masked = [(m.start(), m.end()) for p in table.masks for m in p.finditer(folded)]
    found: dict[tuple[str, int, bool], list[tuple[int, str]]] = {}
    for tag, start, end in index.hits(folded):
        if not any(a <= start < b for a, b in masked):
            found.setdefault(tag, []).append((start, text[start:end]))

    def scan(group: str, entries: tuple[_Entry, ...]) -> list[tuple[_Entry, Found]]:
        out = []
        for n in sorted({n for g, n, _ in found if g == group}):   # only the entries with a hit, in table order
            e = entries[n]
            strong = _words(found.get((group, n, True), []))
            weak = _words(found.get((group, n, False), []))
            weak = [w for w in weak if not any(w.lower() in x.lower() for x in strong)]
            if strong or weak:
                out.append((e, Found(e.code, e.name, tuple(strong + weak), weak=not strong)))
        return out

    operators = scan("operators", table.operators)
    services = {f.code: f for _, f in scan("services", table.services)}
    generic = _words(found.get(("internet", 0, True), []))
    if generic and not ({"mobile_internet", "fixed_internet"} & set(services)):
        kinds = {s for e, f in operators if not f.weak for s in e.services}
        names = {e.code: e.name for e in table.services}
        targets: list[str] = [s for s in ("mobile_internet", "fixed_internet") if s in kinds] or ["mobile_internet",
                                                                                                    "fixed_internet"]
        for s in targets:
            services[s] = Found(s, names.get(s, s), tuple(generic), weak=len(targets) > 1)
    # a service implied by the only operator named, when the text names no service of its own
    if not services and len(operators) == 1:
        e, f = operators[0]
        names = {x.code: x.name for x in table.services}
        for s in e.services:
            services[s] = Found(s, names.get(s, s), f.words, weak=True, via="operator")
    ordered = tuple(services[s] for s in SERVICES if s in services)
    return Extraction(tuple(f for _, f in operators), ordered)


def extract_operators_services(text: str) -> dict[str, list[str]]:
    """Codes only: ``{"operators": ["kcell", ...], "services": ["mobile_voice", ...]}`` (candidates, for staff)."""
    found = extract(text)
    return {"operators": [f.code for f in found.operators], "services": [f.code for f in found.services]}
