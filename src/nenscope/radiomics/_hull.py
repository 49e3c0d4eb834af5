"""Exact 3D convex hull of points on an integer lattice (the morphology hull features).

The marching-cubes vertices of a binary mask meshed at level 0.5 lie on the half-voxel
lattice, so twice their voxel coordinates are integers and every orientation test can be
done exactly in int64 arithmetic. That makes a small incremental hull robust without the
merging heuristics a floating-point hull needs (flat faces stay triangulated, which changes
neither the hull's volume nor its area), and it spares ``nenscope radiomics`` the import of
``scipy.spatial`` (Qhull pulls in ``scipy.linalg``: about 0.1 s of CPU per process, issue 9
item 6).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.core.arrays import distinct
from nenscope.core.errors import InputLimitError, InvalidArgumentError, NotComputableError

__all__ = ["hull_faces", "lattice_hull_faces"]

LATTICE_MAX = 1 << 20
"""Largest lattice coordinate: orientation determinants then stay far inside int64."""


def _line_extremes(points: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Points that are the lowest or highest of their lattice line along each of the 3 axes.

    A hull vertex is extreme along every line through it, so the others cannot be vertices.
    """
    keep = np.ones(len(points), dtype=bool)
    for axis in range(3):
        others = [a for a in range(3) if a != axis]
        order = np.lexsort((points[:, axis], points[:, others[1]], points[:, others[0]]))
        key = points[order][:, others]
        new_line = np.ones(len(points), dtype=bool)
        new_line[1:] = np.any(key[1:] != key[:-1], axis=1)
        end_line = np.ones(len(points), dtype=bool)
        end_line[:-1] = new_line[1:]
        extreme = np.zeros(len(points), dtype=bool)
        extreme[order] = new_line | end_line
        keep &= extreme
    return keep


def _initial_simplex(p: npt.NDArray[np.int64]) -> list[int]:
    """Four affinely independent points (indices), or a ValueError for a flat point set."""
    i0 = int(np.argmin(p[:, 0]))
    i1 = int(np.argmax(np.abs(p - p[i0]).sum(axis=1)))
    d01 = p[i1] - p[i0]
    cross = np.cross(d01, p - p[i0])
    i2 = int(np.argmax(np.abs(cross).sum(axis=1)))
    normal = np.cross(d01, p[i2] - p[i0])
    if not normal.any():
        raise NotComputableError("convex hull: all points are collinear (no 3D hull)")
    heights = (p - p[i0]) @ normal
    i3 = int(np.argmax(np.abs(heights)))
    if heights[i3] == 0:
        raise NotComputableError("convex hull: all points are coplanar (no 3D hull)")
    return [i0, i1, i2, i3]


class _Hull:
    """Triangles of a growing hull: vertices, integer normals and plane offsets, liveness."""

    def __init__(self, p: npt.NDArray[np.int64]) -> None:
        self.p = p
        self.points: list[list[int]] = p.tolist()
        self.faces = np.zeros((64, 3), dtype=np.int64)
        self.normals = np.zeros((64, 3), dtype=np.int64)
        self.offsets = np.zeros(64, dtype=np.int64)
        self.alive = np.zeros(64, dtype=bool)
        self.n = 0
        self.edge_face: dict[tuple[int, int], int] = {}  # directed edge -> live face

    def add(self, new: list[tuple[int, int, int]]) -> None:
        """Append triangles ``(i, j, k)`` (outward: ``(pj - pi) × (pk - pi)`` points out)."""
        cap = len(self.alive)
        if self.n + len(new) > cap:
            cap = max(2 * cap, self.n + len(new))
            self.faces = np.resize(self.faces, (cap, 3))
            self.normals = np.resize(self.normals, (cap, 3))
            self.offsets = np.resize(self.offsets, cap)
            alive = np.zeros(cap, dtype=bool)
            alive[: self.n] = self.alive[: self.n]
            self.alive = alive
        # A fan has a handful of triangles: Python integers beat NumPy's per-call overhead.
        pts = self.points
        normals, offsets = [], []
        for fid, (i, j, k) in enumerate(new, start=self.n):
            (x0, y0, z0), (x1, y1, z1), (x2, y2, z2) = pts[i], pts[j], pts[k]
            ax, ay, az = x1 - x0, y1 - y0, z1 - z0
            bx, by, bz = x2 - x0, y2 - y0, z2 - z0
            nx, ny, nz = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
            normals.append((nx, ny, nz))
            offsets.append(nx * x0 + ny * y0 + nz * z0)
            self.edge_face[(i, j)] = fid
            self.edge_face[(j, k)] = fid
            self.edge_face[(k, i)] = fid
        sl = slice(self.n, self.n + len(new))
        self.faces[sl] = new
        self.normals[sl] = normals
        self.offsets[sl] = offsets
        self.alive[sl] = True
        self.n += len(new)

    def live(self) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.alive[: self.n])

    def insert(self, q: int) -> None:
        """Make point ``q`` a vertex: the faces it sees give way to a fan to their horizon."""
        n = self.n
        sees = (self.normals[:n] @ self.p[q] > self.offsets[:n]) & self.alive[:n]
        visible = np.flatnonzero(sees)
        if not visible.size:
            return  # inside the hull already
        visible_set = set(visible.tolist())
        horizon = [
            (e0, e1, q)
            for i, j, k in self.faces[visible].tolist()
            for e0, e1 in ((i, j), (j, k), (k, i))
            if self.edge_face[(e1, e0)] not in visible_set
        ]
        self.alive[visible] = False
        self.add(horizon)


def lattice_hull_faces(points: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Triangles of the convex hull of integer points, outward oriented (indices into points).

    Parameters
    ----------
    points
        ``(n, 3)`` integers, absolute values below :data:`LATTICE_MAX`.

    Returns
    -------
    numpy.ndarray
        ``(m, 3)`` vertex indices; ``(b - a) × (c - a)`` points out of the hull. Coplanar
        hull faces are returned as several triangles.

    Notes
    -----
    Incremental construction in rounds: each round adds, for every face, its farthest point
    outside (a hull vertex), one point at a time (the faces it sees are replaced by a fan
    from the point to their horizon), then drops the points that are inside every face.
    A point is outside a face only when strictly above its plane, tested exactly.

    Examples
    --------
    >>> cube = np.array([[x, y, z] for x in (0, 2) for y in (0, 2) for z in (0, 2)] + [[1, 1, 1]])
    >>> len(lattice_hull_faces(cube))
    12
    """
    pts = np.asarray(points, dtype=np.int64)
    if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) < 4:
        raise InvalidArgumentError(f"convex hull: expected (n >= 4, 3) points, got {pts.shape}")
    if int(np.abs(pts).max()) >= LATTICE_MAX:
        raise InputLimitError(f"convex hull: lattice coordinates must stay below {LATTICE_MAX}")
    _, first = np.unique(pts, axis=0, return_index=True)  # line ends need distinct points
    candidates = first[_line_extremes(pts[first])]
    p = pts[candidates]
    simplex = _initial_simplex(p)
    a, b, c, d = simplex
    if int(np.cross(p[b] - p[a], p[c] - p[a]) @ (p[d] - p[a])) > 0:
        b, c = c, b  # the fourth point must be below the first face
    hull = _Hull(p)
    hull.add([(a, b, c), (a, d, b), (b, d, c), (c, d, a)])
    outside_simplex = np.ones(len(p), dtype=bool)
    outside_simplex[simplex] = False
    remaining = np.flatnonzero(outside_simplex)  # np.setdiff1d would import numpy.ma
    while remaining.size:
        live = hull.live()
        height = p[remaining] @ hull.normals[live].T - hull.offsets[live]  # exact
        above = height > 0
        outside = above.any(axis=1)
        remaining, height, above = remaining[outside], height[outside], above[outside]
        if not remaining.size:
            break
        # The farthest point above each face (in units of that face's normal) is a vertex.
        best = distinct(np.argmax(height, axis=0)[above.any(axis=0)])
        for q in remaining[best].tolist():
            hull.insert(q)
        keep = np.ones(len(remaining), dtype=bool)
        keep[best] = False
        remaining = remaining[keep]
    return np.asarray(candidates[hull.faces[hull.live()]], dtype=np.int64)


def hull_faces(
    verts_mm: npt.NDArray[np.float64], spacing_mm: tuple[float, float, float]
) -> npt.NDArray[np.int64] | None:
    """Hull triangles of marching-cubes vertices (mm) of a binary mask, or None off-lattice.

    The vertices are mapped back to the half-voxel lattice; None when they are not on it
    (not a binary mask meshed at 0.5), in which case the caller uses a floating-point hull.
    """
    lattice = np.rint(2.0 * verts_mm / np.asarray(spacing_mm)).astype(np.int64)
    back = lattice * (0.5 * np.asarray(spacing_mm))
    if not np.allclose(back, verts_mm, rtol=0.0, atol=1e-6 * min(spacing_mm)):
        return None
    return lattice_hull_faces(lattice)
