"""The tagger's grid indexes against shapely and plain numpy references."""

from __future__ import annotations

import numpy as np
import shapely

from qamtu.mapping.gridindex import AreaRaster, BoxGrid
from qamtu.mapping.tagging import _nearest_per_fix


def test_box_grid_pairs_hold_every_box_that_contains_the_fix():
    rng = np.random.default_rng(17)
    cx, cy = rng.uniform(60, 75, 400), rng.uniform(40, 47, 400)
    w = rng.choice([0.02, 0.04, 0.25], 400)
    x0, y0, x1, y1 = cx - w, cy - w / 2, cx + w, cy + w / 2
    grid = BoxGrid(x0, y0, x1, y1)
    x, y = rng.uniform(59, 76, 20000), rng.uniform(39, 48, 20000)
    # fixes exactly on box corners and edges too
    x = np.r_[x, x0[:50], x1[:50], cx[:50]]
    y = np.r_[y, y0[:50], y1[:50], y1[:50]]
    fix, box = grid.pairs(x, y)
    assert np.all(np.diff(fix) >= 0), "pairs come grouped by fix"
    got = set(zip(fix.tolist(), box.tolist()))
    inside = (x[:, None] >= x0) & (x[:, None] <= x1) & (y[:, None] >= y0) & (y[:, None] <= y1)
    want = set(zip(*(a.tolist() for a in np.nonzero(inside))))
    assert want and want <= got
    assert len(got) < 20 * len(want) + 1000, "the grid prunes: not every box for every fix"


def test_area_raster_equals_contains_xy():
    area = shapely.Polygon([(60, 40), (75, 41), (73, 47), (66, 46.5), (61, 44)]).buffer(0.3).difference(
        shapely.Point(68, 43.5).buffer(1.0))
    raster = AreaRaster(area, cell_deg=0.1)
    rng = np.random.default_rng(3)
    x, y = rng.uniform(58, 77, 300000), rng.uniform(38, 49, 300000)
    x = np.r_[x, np.round(x[:5000], 1)]  # on cell edges
    y = np.r_[y, np.round(y[:5000], 1)]
    assert np.array_equal(raster.contains(x, y), shapely.contains_xy(area, x, y))
    assert (raster.state == AreaRaster.INSIDE).sum() > (raster.state == AreaRaster.EDGE).sum()


def test_nearest_per_fix_equals_a_lexsort():
    rng = np.random.default_rng(5)
    fix = np.sort(rng.integers(0, 3000, 20000))
    site = rng.integers(0, 50, 20000)
    d = rng.integers(0, 20, 20000).astype(float)  # many ties
    f, s, dd = _nearest_per_fix(fix, site, d)
    order = np.lexsort((site, d, fix))
    first = order[np.flatnonzero(np.r_[True, fix[order][1:] != fix[order][:-1]])]
    assert np.array_equal(f, fix[first]) and np.array_equal(s, site[first]) and np.array_equal(dd, d[first])
