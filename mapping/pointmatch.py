"""Match KATO populated places to source points (OpenStreetMap places, then GeoNames) by name.

Used by ``qamtu settlements build`` for every place that the curated Turkistan match table
(``data/sources/turkistan_settlements_raw.csv``) does not cover. The rules are those the curated
table was made with, written down so they can be re-run on any region:

1. Names are compared as *match keys*: the KATO name without its type marker, lower case, Kazakh
   letters folded to their Russian look-alikes, only letters and digits kept. A KATO place has the
   keys of its Kazakh and Russian names; a point has the keys of every name it carries (OSM
   ``name``, ``name:kk``, ``name:ru``; GeoNames ``name_rus`` and ``name_kaz`` variants).
2. A point is a candidate only if a key is equal and it lies inside the place's unit polygon (2024)
   buffered by :data:`UNIT_BUFFER_DEG` degrees (the polygons are coarse).
3. Candidates within :data:`SAME_PLACE_KM` of each other are one place (OSM often has two nodes);
   the one with the highest ``place`` rank, then the lowest id, represents it.
4. One candidate place: matched (``unique name in district``). Several: the one nearest the median
   of the rural okrug's unique matches is kept, only if within :data:`OKRUG_REACH_KM` and clearly
   nearest (the next is at least :data:`CLEAR_MARGIN_KM` further); otherwise the place stays
   unlocated (ambiguous).
5. A point claimed by two places is dropped from both unless exactly one claim is a unique-name
   match. Points already used by the curated table are not offered.
6. GeoNames points are tried only for places with no OSM candidate at all.

Nothing is guessed: a place with no clear candidate gets no coordinate.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from statistics import median
from typing import Iterable

import numpy as np
import shapely

from .geodesy import haversine_m
from .names import KAZAKH_TO_RUSSIAN, clean_kato_name

UNIT_BUFFER_DEG = 0.05
SAME_PLACE_KM = 5.0
OKRUG_REACH_KM = 20.0
CLEAR_MARGIN_KM = 5.0
PLACE_RANK = {"city": 0, "town": 1, "village": 2, "hamlet": 3, "isolated_dwelling": 4}


def match_key(name: str) -> str:
    """Lower-case letters and digits of a cleaned name, Kazakh letters folded to Russian ones."""
    s = clean_kato_name(name).lower().translate(KAZAKH_TO_RUSSIAN)
    return re.sub(r"[^0-9a-zа-я]", "", s)


@dataclass(frozen=True)
class SourcePoint:
    """A named point of a source: ``source`` is ``osm`` or ``geonames``; ``lat``/``lon`` in degrees."""

    source: str
    source_id: str
    lat: float
    lon: float
    keys: frozenset[str]
    rank: int
    name_latin: str | None
    population: int | None


@dataclass(frozen=True)
class Place:
    """A KATO populated place to locate; ``area`` is its unit polygon (shapely, degrees)."""

    kato: str
    keys: frozenset[str]
    okrug: str | None
    area: object
    city: bool


@dataclass(frozen=True)
class Match:
    point: SourcePoint
    method: str


def _candidates(place: Place, by_key: dict[str, list[int]], points: list[SourcePoint],
                taken: set[str]) -> list[SourcePoint]:
    idx = sorted({i for k in place.keys for i in by_key.get(k, ())})
    cands = [points[i] for i in idx if points[i].source_id not in taken]
    if not cands:
        return []
    inside = shapely.contains_xy(place.area, [p.lon for p in cands], [p.lat for p in cands])
    cands = [p for p, ok in zip(cands, inside) if ok]
    if place.city and any(p.rank <= 1 for p in cands):
        cands = [p for p in cands if p.rank <= 1]
    return cands


def _clusters(cands: list[SourcePoint]) -> list[SourcePoint]:
    """One representative per group of candidates within SAME_PLACE_KM of each other."""
    reps: list[SourcePoint] = []
    for p in sorted(cands, key=lambda c: (c.rank, c.source_id)):
        if all(haversine_m(p.lat, p.lon, r.lat, r.lon) > SAME_PLACE_KM * 1000 for r in reps):
            reps.append(p)
    return reps


def _index(points: list[SourcePoint]) -> dict[str, list[int]]:
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(points):
        for k in p.keys:
            by_key[k].append(i)
    return by_key


def _match_round(todo: list[Place], points: list[SourcePoint], taken: set[str],
                 anchors: dict[str, list[tuple[float, float]]]) -> tuple[dict[str, Match], set[str]]:
    """One source: matches by KATO code, and the codes that had at least one candidate."""
    by_key = _index(points)
    reps = {p.kato: _clusters(_candidates(p, by_key, points, taken)) for p in todo}
    okrug_pts: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for k, pts in anchors.items():
        okrug_pts[k].extend(pts)
    for p in todo:
        if len(reps[p.kato]) == 1 and p.okrug:
            okrug_pts[p.okrug].append((reps[p.kato][0].lat, reps[p.kato][0].lon))
    claims: dict[str, list[tuple[str, Match]]] = defaultdict(list)
    for p in todo:
        cands = reps[p.kato]
        if len(cands) == 1:
            claims[cands[0].source_id].append((p.kato, Match(cands[0], "unique name in district")))
        elif len(cands) > 1 and p.okrug and okrug_pts.get(p.okrug):
            pts = okrug_pts[p.okrug]
            mlat, mlon = median(a for a, _ in pts), median(b for _, b in pts)
            d = np.array([haversine_m(c.lat, c.lon, mlat, mlon) for c in cands]) / 1000
            order = np.argsort(d, kind="stable")
            best, second = d[order[0]], d[order[1]]
            if best <= OKRUG_REACH_KM and second - best >= CLEAR_MARGIN_KM:
                c = cands[int(order[0])]
                claims[c.source_id].append((p.kato, Match(c, f"nearest to rural okrug median of {len(cands)} "
                                                             "same-name places")))
    out: dict[str, Match] = {}
    for cl in claims.values():
        unique = [c for c in cl if c[1].method == "unique name in district"]
        if len(cl) == 1:
            out[cl[0][0]] = cl[0][1]
        elif len(unique) == 1:
            out[unique[0][0]] = unique[0][1]
    return out, {k for k, v in reps.items() if v}


def match_places(places: Iterable[Place], osm: list[SourcePoint], geonames: list[SourcePoint],
                 taken: set[str], anchors: dict[str, list[tuple[float, float]]]) -> dict[str, Match]:
    """Matches by KATO code for the places that get one (see the module docstring).

    ``taken``: source ids already used (``node/…`` or ``wof:…``); ``anchors``: located points
    (lat, lon) by rural okrug from the curated table, used for okrug medians.
    """
    places = list(places)
    result, tried = _match_round(places, osm, taken, anchors)
    rest = [p for p in places if p.kato not in tried]
    grown = defaultdict(list, {k: list(v) for k, v in anchors.items()})
    for p in places:
        if p.kato in result and p.okrug:
            grown[p.okrug].append((result[p.kato].point.lat, result[p.kato].point.lon))
    more, _ = _match_round(rest, geonames, taken, grown)
    result.update(more)
    return result
