"""Two numpy grid indexes that let the tagger skip building a shapely point per fix.

* :class:`BoxGrid`: axis-aligned boxes (degrees) registered in the cells of a regular lon/lat grid.
  :meth:`BoxGrid.pairs` returns every (fix, box) pair whose box overlaps the fix's cell: a superset
  of the boxes holding the fix, found with array arithmetic only. The caller decides each pair
  exactly (great-circle distance), so the grid only prunes and never changes a result.
* :class:`AreaRaster`: a polygon rasterised into cells fully inside, fully outside or on its edge;
  :meth:`AreaRaster.contains` answers inside/outside from the cell and asks shapely only for fixes
  in edge cells. The answer equals ``shapely.contains_xy`` on the polygon.

Cell sizes are in degrees. Fixes outside the grid's extent get no pairs / are tested exactly.
"""

from __future__ import annotations

import numpy as np
import shapely


class BoxGrid:
    """Boxes ``(x0, y0, x1, y1)`` in degrees, indexed by the grid cells they overlap."""

    def __init__(self, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, cell_deg: float | None = None):
        x0, y0, x1, y1 = (np.asarray(a, dtype=float) for a in (x0, y0, x1, y1))
        self.n = len(x0)
        if cell_deg is None:  # the median box width: few boxes per cell, most boxes in at most 4 cells
            cell_deg = float(np.median(np.maximum(x1 - x0, y1 - y0))) if len(x0) else 1.0
        self.cell = cell_deg
        self.ox = float(np.min(x0, initial=0.0))
        self.oy = float(np.min(y0, initial=0.0))
        cx0 = np.floor((x0 - self.ox) / self.cell).astype(np.int64)
        cy0 = np.floor((y0 - self.oy) / self.cell).astype(np.int64)
        cx1 = np.floor((x1 - self.ox) / self.cell).astype(np.int64)
        cy1 = np.floor((y1 - self.oy) / self.cell).astype(np.int64)
        self.nx = int(np.max(cx1, initial=0)) + 1
        self.ny = int(np.max(cy1, initial=0)) + 1
        cells, owners = [], []
        for b in range(self.n):
            xs, ys = np.meshgrid(np.arange(cx0[b], cx1[b] + 1), np.arange(cy0[b], cy1[b] + 1))
            cells.append((ys * self.nx + xs).ravel())
            owners.append(np.full(xs.size, b, dtype=np.int64))
        cell_of = np.concatenate(cells) if cells else np.empty(0, dtype=np.int64)
        owner = np.concatenate(owners) if owners else np.empty(0, dtype=np.int64)
        order = np.lexsort((owner, cell_of))
        self._boxes = owner[order]
        counts = np.bincount(cell_of, minlength=self.nx * self.ny)
        self._start = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
        self._count = counts.astype(np.int64)

    def pairs(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(fix index, box index) for every fix and every box registered in the fix's cell;
        sorted by fix index."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        cx = np.floor((x - self.ox) / self.cell)
        cy = np.floor((y - self.oy) / self.cell)
        inside = (cx >= 0) & (cx < self.nx) & (cy >= 0) & (cy < self.ny)
        fix = np.flatnonzero(inside)
        cell = (cy[fix] * self.nx + cx[fix]).astype(np.int64)
        n = self._count[cell]
        keep = n > 0
        fix, cell, n = fix[keep], cell[keep], n[keep]
        total = int(n.sum())
        rep_fix = np.repeat(fix, n)
        offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        return rep_fix, self._boxes[np.repeat(self._start[cell], n) + offset]


class AreaRaster:
    """A prepared polygon (degrees) with a raster of cells known to be inside or outside it."""

    INSIDE, OUTSIDE, EDGE = 1, 0, 2

    def __init__(self, area: shapely.Geometry, cell_deg: float = 0.1):
        self.area = area
        shapely.prepare(area)
        x0, y0, x1, y1 = area.bounds
        self.cell = cell_deg
        self.ox, self.oy = x0, y0
        self.nx = int(np.ceil((x1 - x0) / cell_deg)) + 1
        self.ny = int(np.ceil((y1 - y0) / cell_deg)) + 1
        gx, gy = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        bx0 = x0 + gx.ravel() * cell_deg
        by0 = y0 + gy.ravel() * cell_deg
        pad = cell_deg * 1e-6  # cells are judged with a margin, so rounding on a cell edge cannot mislead
        boxes = shapely.box(bx0 - pad, by0 - pad, bx0 + cell_deg + pad, by0 + cell_deg + pad)
        state = np.full(boxes.size, self.EDGE, dtype=np.int8)
        state[shapely.contains_properly(area, boxes)] = self.INSIDE
        state[~shapely.intersects(area, boxes)] = self.OUTSIDE
        self.state = state

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Boolean array: is each (x, y) (degrees) inside the area? Equals ``shapely.contains_xy``."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        cx = np.floor((x - self.ox) / self.cell)
        cy = np.floor((y - self.oy) / self.cell)
        on_grid = (cx >= 0) & (cx < self.nx) & (cy >= 0) & (cy < self.ny)
        state = np.full(len(x), self.OUTSIDE, dtype=np.int8)
        idx = np.flatnonzero(on_grid)
        state[idx] = self.state[(cy[idx] * self.nx + cx[idx]).astype(np.int64)]
        out = state == self.INSIDE
        edge = np.flatnonzero(state == self.EDGE)
        if len(edge):
            out[edge] = shapely.contains_xy(self.area, x[edge], y[edge])
        return out
