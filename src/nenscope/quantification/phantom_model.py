"""Pure anatomy and uptake model of the synthetic PET/CT phantom (no I/O).

The phantom is a list of :class:`Region` objects painted in order onto any grid: each region is
an ellipsoid or an elliptic cylinder (axis along patient z) in DICOM LPS millimetres, with a CT
number in HU and an uptake in SUV (g/mL). A later region overwrites an earlier one, so a skull
shell is "bone ellipsoid, then brain ellipsoid inside it" and a lesion is painted over its organ.
The DICOM writer in :mod:`nenscope.dicom.synthetic` turns the model into a study; tests and
callers rebuild the same label maps from the model with :meth:`PhantomModel.rasterise`.

LPS: +x is patient Left, +y is Posterior, +z is Superior. The liver therefore lies at negative
x (patient right), the spleen at positive x.

Uptake values are **typical illustrative values**, chosen inside the ranges reported for normal
biodistribution (68Ga-DOTATATE: spleen SUVmean about 20-25, kidneys 12-15, liver 6-8, adrenals
about 10, pituitary about 5; 18F-FDG: brain about 8, liver about 2.2, blood pool about 1.6).
They are not measurements of any patient and must not be used as reference ranges.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core.enums import parse_option, suggest
from nenscope.core.errors import GeometryError, OptionError
from nenscope.core.tracers import default_tracer_table
from nenscope.core.units import ML_PER_MM3, MM3_PER_ML
from nenscope.quantification._phantom_detailed import (
    DETAILED_INSERTIONS,
    DETAILED_UPTAKE,
    DETAILED_UPTAKE_OVERRIDES,
    Entry,
)

__all__ = [
    "FWHM_PER_SIGMA",
    "LESION_MIN_GAP_MM",
    "TRACERS",
    "LesionSpec",
    "PhantomAnatomy",
    "PhantomModel",
    "Region",
    "RegionKind",
    "Shape",
    "ShapeKind",
    "Tracer",
    "TracerInfo",
    "add_pet_noise",
    "blur_image",
    "build_phantom_model",
    "default_lesions",
    "sphere_diameter_mm",
]

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
"""Ratio FWHM / sigma of a Gaussian (about 2.3548)."""

LESION_MIN_GAP_MM = 0.0
"""Minimum surface-to-surface distance between two lesion spheres (they may touch, not overlap)."""


class Tracer(StrEnum):
    """PET tracers the phantom knows uptake values for.

    Each value is the id of its entry in the tracer table (``core/data/tracers.toml``), which
    gives its radionuclide; the phantom adds only what a scanner writes (below).
    """

    GA68_DOTATATE = "ga68-dotatate"
    FDG = "fdg"
    CU64_DOTATATE = "cu64-dotatate"


@dataclass(frozen=True, slots=True, kw_only=True)
class TracerInfo:
    """Physical facts of a tracer used to write the PET header.

    Parameters
    ----------
    radiopharmaceutical
        Free-text name for Radiopharmaceutical (0018,0031), as a scanner writes it.
    radionuclide
        Radionuclide label, e.g. ``"68Ga"``: the tracer table's (:func:`_tracer_info`).
    half_life_s
        Physical half-life in s.
    positron_fraction
        Branching ratio for positron emission (already applied by the scanner in Bq/mL).
    default_activity_mbq
        Typical injected activity in MBq for a 75 kg adult (illustrative).
    """

    radiopharmaceutical: str
    radionuclide: str
    half_life_s: float
    positron_fraction: float
    default_activity_mbq: float


def _tracer_info(
    tracer: Tracer,
    *,
    radiopharmaceutical: str,
    half_life_s: float,
    positron_fraction: float,
    default_activity_mbq: float,
) -> TracerInfo:
    """Header facts of a phantom tracer; the radionuclide is the tracer table's."""
    return TracerInfo(
        radiopharmaceutical=radiopharmaceutical,
        radionuclide=default_tracer_table()[tracer.value].radionuclide,
        half_life_s=half_life_s,
        positron_fraction=positron_fraction,
        default_activity_mbq=default_activity_mbq,
    )


TRACERS: Mapping[Tracer, TracerInfo] = {
    # Half-lives as found in scanner headers (shared/reference/suv-rules.md §4.4).
    Tracer.GA68_DOTATATE: _tracer_info(
        Tracer.GA68_DOTATATE,
        radiopharmaceutical="Ga-68 DOTATATE",
        half_life_s=4057.7,
        positron_fraction=0.889,
        default_activity_mbq=150.0,
    ),
    Tracer.FDG: _tracer_info(
        Tracer.FDG,
        radiopharmaceutical="FDG -- fluorodeoxyglucose",
        half_life_s=6586.2,
        positron_fraction=0.967,
        default_activity_mbq=250.0,
    ),
    Tracer.CU64_DOTATATE: _tracer_info(
        Tracer.CU64_DOTATATE,
        radiopharmaceutical="Cu-64 DOTATATE",
        half_life_s=45720.0,
        positron_fraction=0.175,
        default_activity_mbq=200.0,
    ),
}
"""Tracer physics; half-lives as written by scanners (suv-rules.md §4.4)."""


class ShapeKind(StrEnum):
    """Geometric primitive of a region."""

    ELLIPSOID = "ellipsoid"
    CYLINDER = "cylinder"
    TUBE = "tube"


class PhantomAnatomy(StrEnum):
    """Which anatomy the phantom has.

    ``basic`` is the original ellipsoid phantom (every existing study and test). ``detailed``
    adds the structures a real body shows on PET (issue 10): a myocardial ring with a blood
    pool inside, a brain cortex shell over lower-uptake white matter, renal pelves and ureters
    joined to the bladder (one urinary tract), meandering bowel loops, psoas and thigh
    muscles, and a focus in the pancreatic uncinate process (SSTR). Still a unit-test tool
    built from simple shapes, not evidence that a method holds on patients.
    """

    BASIC = "basic"
    DETAILED = "detailed"


class RegionKind(StrEnum):
    """Role of a region in the ground truth."""

    TISSUE = "tissue"
    ORGAN = "organ"
    LESION = "lesion"


_BOUNDARY_RTOL = 1e-9
"""Relative slack of :meth:`Shape.contains` on the surface (float rounding of grid points)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape:
    """Axis-aligned ellipsoid, elliptic cylinder, or tube along a polyline, in LPS mm.

    Parameters
    ----------
    kind
        ``ellipsoid``; ``cylinder`` (elliptic cross-section in x-y, axis along z); or ``tube``
        (every point within ``radii_mm[0]`` of the polyline ``path_mm``: a ureter, a bowel
        loop, a muscle).
    centre_mm
        Centre ``(x, y, z)`` in LPS mm (for a tube: the mean of its path points).
    radii_mm
        Semi-axes ``(x, y, z)`` in mm; for a cylinder the z value is half its length; for a
        tube three equal values, its radius.
    path_mm
        Tube only: two or more points ``(x, y, z)`` LPS mm, joined by straight segments.
    """

    kind: ShapeKind
    centre_mm: tuple[float, float, float]
    radii_mm: tuple[float, float, float]
    path_mm: tuple[tuple[float, float, float], ...] = ()

    def __post_init__(self) -> None:
        if not all(math.isfinite(r) and r > 0 for r in self.radii_mm):
            raise GeometryError(f"Shape radii must be finite and > 0 mm, got {self.radii_mm}.")
        if not all(math.isfinite(c) for c in self.centre_mm):
            raise GeometryError(f"Shape centre must be finite, got {self.centre_mm}.")
        is_tube = self.kind is ShapeKind.TUBE
        if is_tube != bool(self.path_mm):
            raise GeometryError(
                f"A {self.kind.value} shape {'needs' if is_tube else 'takes no'} path_mm "
                "(the polyline of a tube)."
            )
        if is_tube and (
            len(self.path_mm) < 2
            or len(set(self.radii_mm)) != 1
            or not all(all(math.isfinite(v) for v in p) for p in self.path_mm)
        ):
            raise GeometryError(
                "A tube needs at least two finite path points (x, y, z) mm and one radius "
                f"(three equal radii), got path {self.path_mm} and radii {self.radii_mm}."
            )

    @classmethod
    def tube(cls, path_mm: Sequence[Sequence[float]], radius_mm: float) -> Shape:
        """Return a tube of ``radius_mm`` along the polyline ``path_mm`` (LPS mm)."""
        points = tuple((float(p[0]), float(p[1]), float(p[2])) for p in path_mm)
        centre = np.mean(np.asarray(points, dtype=np.float64), axis=0) if points else np.zeros(3)
        return cls(
            kind=ShapeKind.TUBE,
            centre_mm=(float(centre[0]), float(centre[1]), float(centre[2])),
            radii_mm=(radius_mm, radius_mm, radius_mm),
            path_mm=points,
        )

    def contains(self, points_mm: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Whether each LPS point (``(..., 3)`` array, mm) lies inside the shape (boundary in)."""
        # "Boundary in" up to rounding: a grid point on the surface in exact arithmetic stays in
        # whatever the float error of its coordinates (the label map is translation-equivariant).
        one = 1.0 + _BOUNDARY_RTOL
        if self.kind is ShapeKind.TUBE:
            return _in_tube(points_mm, self.path_mm, self.radii_mm[0], one)
        c = np.asarray(self.centre_mm)
        r = np.asarray(self.radii_mm)
        q = (points_mm - c) / r
        if self.kind is ShapeKind.ELLIPSOID:
            return np.asarray(np.sum(q * q, axis=-1) <= one)
        in_plane = q[..., 0] ** 2 + q[..., 1] ** 2 <= one
        return np.asarray(in_plane & (np.abs(q[..., 2]) <= one))

    @property
    def bounds_mm(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Lower and upper LPS corners of the axis-aligned bounding box, mm."""
        r = np.asarray(self.radii_mm, dtype=np.float64)
        if self.kind is ShapeKind.TUBE:
            path = np.asarray(self.path_mm, dtype=np.float64)
            return path.min(axis=0) - r, path.max(axis=0) + r
        c = np.asarray(self.centre_mm, dtype=np.float64)
        return c - r, c + r

    @property
    def nominal_volume_ml(self) -> float:
        """Continuous volume of the shape in mL.

        A tube: its segments plus the end caps; where segments meet at an angle the joint is
        counted twice, so an upper bound.
        """
        rx, ry, rz = self.radii_mm
        if self.kind is ShapeKind.TUBE:
            path = np.asarray(self.path_mm, dtype=np.float64)
            length = float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())
            return (math.pi * rx**2 * length + 4.0 / 3.0 * math.pi * rx**3) * ML_PER_MM3
        factor = 4.0 / 3.0 if self.kind is ShapeKind.ELLIPSOID else 2.0
        return factor * math.pi * rx * ry * rz * ML_PER_MM3


def _in_tube(
    points_mm: npt.NDArray[np.float64],
    path: Sequence[tuple[float, float, float]],
    radius_mm: float,
    one: float,
) -> npt.NDArray[np.bool_]:
    """Points within ``radius_mm`` of the polyline (distance to the nearest segment)."""
    pts = np.asarray(points_mm, dtype=np.float64)
    inside = np.zeros(pts.shape[:-1], dtype=bool)
    limit = (radius_mm * radius_mm) * one
    for a_, b_ in itertools.pairwise(path):
        a, b = np.asarray(a_), np.asarray(b_)
        ab = b - a
        t = np.clip(((pts - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
        d = pts - (a + t[..., None] * ab)
        inside |= np.sum(d * d, axis=-1) <= limit
    return inside


@dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """One painted region: its shape, CT number and uptake.

    Parameters
    ----------
    name
        Unique name, e.g. ``"liver"`` or a lesion id.
    kind
        Tissue (background material), organ (reported in the truth) or lesion.
    shape
        Geometry in LPS mm.
    hu
        CT number in HU.
    suv
        Uptake in SUV (g/mL), uniform over the region.
    site
        For lesions: the organ or site it sits in (``"liver"``, ``"lymph-node"``, ...); for other
        regions the empty string.
    """

    name: str
    kind: RegionKind
    shape: Shape
    hu: float
    suv: float
    site: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise OptionError("Region name must not be empty.")
        if not (math.isfinite(self.suv) and self.suv >= 0):
            raise OptionError(
                f"Region '{self.name}': SUV must be finite and >= 0, got {self.suv}."
            )
        if not (math.isfinite(self.hu) and -1024.0 <= self.hu <= 3071.0):
            raise OptionError(
                f"Region '{self.name}': HU must lie in [-1024, 3071] (12-bit CT), got {self.hu}."
            )


def sphere_diameter_mm(volume_ml: float) -> float:
    """Diameter in mm of a sphere of ``volume_ml`` mL.

    Examples
    --------
    >>> round(sphere_diameter_mm(1.0), 3)
    12.407
    """
    if not (math.isfinite(volume_ml) and volume_ml > 0):
        raise OptionError(f"Lesion volume must be finite and > 0 mL, got {volume_ml}.")
    return float(2.0 * (3.0 * volume_ml * MM3_PER_ML / (4.0 * math.pi)) ** (1.0 / 3.0))


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionSpec:
    """A spherical lesion of known position, size and uptake.

    Parameters
    ----------
    lesion_id
        Unique id, e.g. ``"liver-1"``.
    centre_mm
        Centre ``(x, y, z)`` in LPS mm.
    diameter_mm
        Sphere diameter in mm (use :func:`sphere_diameter_mm` to give a volume instead).
    suv
        Uniform uptake in SUV (g/mL) before any blur.
    site
        Organ the lesion sits in: a region name of the model (``"liver"``, ``"spine"``,
        ``"pancreas"``) or ``"lymph-node"`` / ``"soft-tissue"``.
    hu
        CT number of the lesion in HU.
    """

    lesion_id: str
    centre_mm: tuple[float, float, float]
    diameter_mm: float
    suv: float
    site: str
    hu: float = 40.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.diameter_mm) and self.diameter_mm > 0):
            raise OptionError(
                f"Lesion '{self.lesion_id}': diameter must be > 0 mm, got {self.diameter_mm}."
            )

    @property
    def nominal_volume_ml(self) -> float:
        """Volume of the continuous sphere in mL."""
        return math.pi / 6.0 * self.diameter_mm**3 * ML_PER_MM3

    def to_region(self) -> Region:
        """Return the lesion as a paintable :class:`Region`."""
        r = self.diameter_mm / 2.0
        return Region(
            name=self.lesion_id,
            kind=RegionKind.LESION,
            shape=Shape(kind=ShapeKind.ELLIPSOID, centre_mm=self.centre_mm, radii_mm=(r, r, r)),
            hu=self.hu,
            suv=self.suv,
            site=self.site,
        )


# Organ uptake (SUV, g/mL) per tracer: typical illustrative values (module docstring).
# Order of the tuple: ga68-dotatate, fdg, cu64-dotatate.
_UPTAKE: Mapping[str, tuple[float, float, float]] = {
    "fat": (0.3, 0.3, 0.3),
    "soft": (0.7, 0.8, 0.8),
    "bone": (1.3, 1.5, 1.2),
    "brain": (0.2, 8.0, 0.3),
    "pituitary": (5.0, 6.0, 4.5),
    "parotid": (4.5, 2.0, 4.0),
    "submandibular": (5.0, 2.0, 4.5),
    "lung": (0.3, 0.5, 0.3),
    "heart": (1.8, 4.0, 1.8),
    "blood": (1.7, 1.6, 1.6),
    "liver": (7.0, 2.2, 8.5),
    "spleen": (22.0, 1.9, 18.0),
    "kidney": (13.0, 6.0, 11.0),
    "adrenal": (10.0, 1.6, 8.5),
    "pancreas": (3.0, 1.5, 2.8),
    "bladder": (40.0, 30.0, 8.0),
}

FREE_LESION_SITES = ("lymph-node", "soft-tissue")
"""Lesion sites that are not a region of the model (the centre is only checked to be inside)."""

# The regions whose union is the patient's outline (skin): trunk, neck, head.
_OUTLINE = ("body_fat", "neck", "head")

_TRACER_COLUMN = {Tracer.GA68_DOTATATE: 0, Tracer.FDG: 1, Tracer.CU64_DOTATATE: 2}

# name, kind, shape kind, centre (x, y, z) mm, radii (x, y, z) mm, HU, uptake key.
_E, _C = ShapeKind.ELLIPSOID, ShapeKind.CYLINDER
_T, _O = RegionKind.TISSUE, RegionKind.ORGAN
_ANATOMY: tuple[
    tuple[str, RegionKind, ShapeKind, tuple[float, ...], tuple[float, ...], float, str], ...
] = (
    ("body_fat", _T, _C, (0, 0, 40), (170, 115, 300), -100, "fat"),
    ("body", _T, _C, (0, 0, 40), (158, 103, 300), 40, "soft"),
    ("neck", _T, _C, (0, 10, 370), (60, 60, 35), 40, "soft"),
    ("head", _T, _E, (0, 0, 490), (78, 98, 110), 40, "soft"),
    ("skull", _T, _E, (0, 5, 500), (72, 92, 95), 700, "bone"),
    ("brain", _O, _E, (0, 5, 500), (65, 85, 88), 35, "brain"),
    ("pituitary", _O, _E, (0, 0, 470), (6, 5, 4), 45, "pituitary"),
    ("parotid_right", _O, _E, (-42, 10, 420), (12, 18, 22), 20, "parotid"),
    ("parotid_left", _O, _E, (42, 10, 420), (12, 18, 22), 20, "parotid"),
    ("submandibular_right", _O, _E, (-30, -30, 395), (10, 10, 9), 45, "submandibular"),
    ("submandibular_left", _O, _E, (30, -30, 395), (10, 10, 9), 45, "submandibular"),
    ("lung_right", _O, _E, (-85, 5, 225), (60, 75, 115), -800, "lung"),
    ("lung_left", _O, _E, (85, 5, 225), (60, 75, 115), -800, "lung"),
    ("heart", _O, _E, (25, -25, 170), (55, 50, 55), 40, "heart"),
    # Descending aorta: left-anterior of the spine; the blood-pool reference region.
    ("aorta", _O, _C, (22, 42, 90), (12, 12, 150), 45, "blood"),
    ("spine", _O, _C, (0, 75, 80), (18, 18, 260), 500, "bone"),
    ("liver", _O, _E, (-75, -15, 40), (75, 70, 65), 55, "liver"),
    ("spleen", _O, _E, (85, 45, 50), (30, 45, 45), 45, "spleen"),
    ("kidney_right", _O, _E, (-70, 55, -40), (25, 25, 55), 30, "kidney"),
    ("kidney_left", _O, _E, (70, 55, -40), (25, 25, 55), 30, "kidney"),
    ("adrenal_right", _O, _E, (-45, 55, 30), (8, 8, 14), 20, "adrenal"),
    ("adrenal_left", _O, _E, (45, 55, 30), (8, 8, 14), 20, "adrenal"),
    ("pancreas", _O, _E, (15, 10, -5), (50, 12, 14), 40, "pancreas"),
    ("bladder", _O, _E, (0, -20, -190), (40, 35, 30), 5, "bladder"),
    ("iliac_right", _O, _E, (-95, 40, -140), (18, 40, 45), 600, "bone"),
    ("iliac_left", _O, _E, (95, 40, -140), (18, 40, 45), 600, "bone"),
    ("femoral_head_right", _O, _E, (-90, 10, -215), (22, 22, 22), 600, "bone"),
    ("femoral_head_left", _O, _E, (90, 10, -215), (22, 22, 22), 600, "bone"),
)

# Default lesions: id, centre (x, y, z) mm, volume mL, site, HU, SUV per tracer
# (ga68-dotatate, fdg, cu64-dotatate). For the SSTR tracers the SUVs span the Krenning grades
# relative to the liver (7.0 / 8.5) and the spleen (22 / 18): below liver, between liver and
# spleen, above spleen.
_LESIONS: tuple[
    tuple[str, tuple[float, float, float], float, str, float, tuple[float, float, float]], ...
] = (
    ("liver-1", (-95.0, -25.0, 60.0), 28.0, "liver", 35.0, (45.0, 12.0, 40.0)),
    ("liver-2", (-50.0, -40.0, 15.0), 6.0, "liver", 35.0, (14.0, 6.0, 13.0)),
    ("liver-3", (-110.0, 10.0, 20.0), 2.0, "liver", 35.0, (30.0, 3.5, 26.0)),
    ("pancreas-1", (30.0, 10.0, -5.0), 3.0, "pancreas", 50.0, (30.0, 8.0, 25.0)),
    ("node-mesenteric", (0.0, -60.0, -60.0), 1.5, "lymph-node", 40.0, (4.0, 2.5, 4.5)),
    ("node-paraaortic", (-20.0, 35.0, -40.0), 2.5, "lymph-node", 40.0, (11.0, 5.0, 12.0)),
    ("bone-1", (0.0, 75.0, -60.0), 1.0, "spine", 900.0, (28.0, 7.0, 24.0)),
)


def default_lesions(tracer: Tracer) -> tuple[LesionSpec, ...]:
    """Return the built-in lesions for ``tracer``: liver metastases, nodes, primary, bone.

    Volumes span 1-28 mL. For the SSTR tracers the uptakes span Krenning grades (below the
    liver, between liver and spleen, above the spleen).
    """
    col = _TRACER_COLUMN[tracer]
    return tuple(
        LesionSpec(
            lesion_id=lid,
            centre_mm=centre,
            diameter_mm=sphere_diameter_mm(volume),
            suv=suvs[col],
            site=site,
            hu=hu,
        )
        for lid, centre, volume, site, hu, suvs in _LESIONS
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PhantomModel:
    """Ordered regions of the phantom; label ``i + 1`` is ``regions[i]``, 0 is outside (air).

    Parameters
    ----------
    regions
        Regions in paint order (later ones overwrite earlier ones).
    """

    regions: tuple[Region, ...]

    def __post_init__(self) -> None:
        names = [r.name for r in self.regions]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise OptionError(f"Phantom region names must be unique; repeated: {dupes}.")
        if len(self.regions) >= np.iinfo(np.uint16).max:
            raise OptionError(f"Too many phantom regions ({len(self.regions)}).")

    @property
    def label_names(self) -> dict[int, str]:
        """Label value → region name."""
        return {i + 1: r.name for i, r in enumerate(self.regions)}

    def label_of(self, name: str) -> int:
        """Label value of the region called ``name``."""
        for i, r in enumerate(self.regions):
            if r.name == name:
                return i + 1
        raise OptionError(f"No phantom region called '{name}'.")

    def lookup(self, values: Sequence[float], *, outside: float) -> npt.NDArray[np.float64]:
        """Label-indexed table: entry 0 is ``outside``, entry ``i + 1`` is ``values[i]``."""
        return np.asarray([outside, *values], dtype=np.float64)

    @property
    def suv_table(self) -> npt.NDArray[np.float64]:
        """SUV per label (float64, index = label; 0 = air, SUV 0)."""
        return self.lookup([r.suv for r in self.regions], outside=0.0)

    @property
    def hu_table(self) -> npt.NDArray[np.float64]:
        """HU per label (float64, index = label; 0 = air, -1000 HU)."""
        return self.lookup([r.hu for r in self.regions], outside=-1000.0)

    def rasterise(
        self, affine: npt.NDArray[np.float64], shape: tuple[int, int, int]
    ) -> npt.NDArray[np.uint16]:
        """Label map of the model on a grid (a voxel belongs to a region if its centre does).

        Parameters
        ----------
        affine
            4×4 map from ``(z, y, x)`` indices to LPS mm.
        shape
            Grid shape ``(z, y, x)``.

        Returns
        -------
        numpy.ndarray
            uint16 labels, shape ``(z, y, x)``; 0 = air, ``i + 1`` = ``regions[i]``.
        """
        labels = np.zeros(shape, dtype=np.uint16)
        for k in range(shape[0]):
            labels[k] = self.rasterise_slice(affine, shape, k)
        return labels

    def rasterise_slice(
        self, affine: npt.NDArray[np.float64], shape: tuple[int, int, int], k: int
    ) -> npt.NDArray[np.uint16]:
        """Label map of slice ``k`` of the grid (see :meth:`rasterise`), shape ``(y, x)``."""
        affine = np.asarray(affine, dtype=np.float64)
        inv = np.asarray(np.linalg.inv(affine), dtype=np.float64)
        out = np.zeros(shape[1:], dtype=np.uint16)
        for label, region in enumerate(self.regions, start=1):
            window = _index_window(region.shape, inv, shape, k)
            if window is None:
                continue
            (j0, j1), (i0, i1) = window
            jj, ii = np.meshgrid(
                np.arange(j0, j1, dtype=np.float64),
                np.arange(i0, i1, dtype=np.float64),
                indexing="ij",
            )
            idx = np.stack([np.full_like(jj, float(k)), jj, ii], axis=-1)
            points = idx @ affine[:3, :3].T + affine[:3, 3]
            inside = region.shape.contains(points)
            out[j0:j1, i0:i1][inside] = label
        return out


def _index_window(
    shape_: Shape, inv: npt.NDArray[np.float64], grid: tuple[int, int, int], k: int
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Row and column index ranges of slice ``k`` that can hold ``shape_``, or None."""
    lo, hi = shape_.bounds_mm
    corners = np.array(
        [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    )
    idx = corners @ inv[:3, :3].T + inv[:3, 3]
    imin, imax = idx.min(axis=0), idx.max(axis=0)
    if not (imin[0] - 1e-6 <= k <= imax[0] + 1e-6):
        return None
    j0, j1 = max(0, math.floor(imin[1])), min(grid[1], math.ceil(imax[1]) + 1)
    i0, i1 = max(0, math.floor(imin[2])), min(grid[2], math.ceil(imax[2]) + 1)
    if j0 >= j1 or i0 >= i1:
        return None
    return (j0, j1), (i0, i1)


def _anatomy_regions(col: int, anatomy: PhantomAnatomy) -> list[Region]:
    """Return the anatomy's regions in paint order, uptake of tracer column ``col``."""
    detailed = anatomy is PhantomAnatomy.DETAILED
    uptake = {**_UPTAKE, **DETAILED_UPTAKE} if detailed else _UPTAKE
    regions = []
    for name, kind, skind, centre, radii, hu, key in _ANATOMY:
        if detailed:
            key = DETAILED_UPTAKE_OVERRIDES.get(name, key)
        regions.append(
            Region(
                name=name,
                kind=kind,
                shape=Shape(
                    kind=skind,
                    centre_mm=(float(centre[0]), float(centre[1]), float(centre[2])),
                    radii_mm=(float(radii[0]), float(radii[1]), float(radii[2])),
                ),
                hu=float(hu),
                suv=uptake[key][col],
            )
        )
        if detailed:
            regions.extend(
                _detailed_region(entry, uptake, col) for entry in DETAILED_INSERTIONS.get(name, ())
            )
    return regions


def _detailed_region(
    entry: Entry, uptake: Mapping[str, tuple[float, float, float]], col: int
) -> Region:
    name, kind, skind, centre, radii, hu, key, path = entry
    if skind == ShapeKind.TUBE:
        shape = Shape.tube(path, float(radii[0]))
    else:
        shape = Shape(
            kind=ShapeKind(skind),
            centre_mm=(float(centre[0]), float(centre[1]), float(centre[2])),
            radii_mm=(float(radii[0]), float(radii[1]), float(radii[2])),
        )
    return Region(
        name=name, kind=RegionKind(kind), shape=shape, hu=float(hu), suv=uptake[key][col]
    )


def build_phantom_model(
    tracer: Tracer,
    lesions: Sequence[LesionSpec],
    *,
    anatomy: PhantomAnatomy | str = PhantomAnatomy.BASIC,
) -> PhantomModel:
    """Build the built-in anatomy with uptake for ``tracer`` and ``lesions`` painted last.

    Parameters
    ----------
    tracer
        Sets the uptake column.
    lesions
        Painted after the anatomy.
    anatomy
        ``basic`` (default: the original phantom) or ``detailed`` (:class:`PhantomAnatomy`).

    Raises
    ------
    OptionError
        If a lesion's id repeats a region name, its ``site`` names a model region whose shape
        does not contain the lesion centre, or two lesions overlap.
    """
    col = _TRACER_COLUMN[tracer]
    regions = _anatomy_regions(col, parse_option(anatomy, PhantomAnatomy, what="anatomy"))
    by_name = {r.name: r for r in regions}
    for lesion in lesions:
        if lesion.lesion_id in by_name:
            raise OptionError(
                f"Lesion id '{lesion.lesion_id}' is the name of a phantom region; choose another."
            )
        organ = by_name.get(lesion.site)
        if organ is None and lesion.site not in FREE_LESION_SITES:
            sites = sorted({*FREE_LESION_SITES, *(r.name for r in regions if r.kind is _O)})
            raise OptionError(
                f"Lesion '{lesion.lesion_id}': unknown site '{lesion.site}'. "
                + suggest(lesion.site, sites)
            )
        centre = np.asarray(lesion.centre_mm, dtype=np.float64)
        if organ is not None and not bool(organ.shape.contains(centre)):
            raise OptionError(
                f"Lesion '{lesion.lesion_id}': centre {lesion.centre_mm} mm is not inside its "
                f"site '{lesion.site}'. Move the centre or name the right site."
            )
        _check_inside_patient(lesion, [by_name[name] for name in _OUTLINE])
    _check_lesions_apart(lesions)
    return PhantomModel(regions=(*regions, *(les.to_region() for les in lesions)))


def _check_inside_patient(lesion: LesionSpec, outline: Sequence[Region]) -> None:
    """Refuse a lesion sphere that reaches outside the patient (its centre and six poles)."""
    r = lesion.diameter_mm / 2.0
    centre = np.asarray(lesion.centre_mm, dtype=np.float64)
    points = np.vstack([centre, centre + r * np.eye(3), centre - r * np.eye(3)])
    inside = np.zeros(len(points), dtype=bool)
    for region in outline:
        inside |= np.asarray(region.shape.contains(points), dtype=bool)
    if not inside.all():
        trunk = outline[0].shape
        (cx, cy, cz), (rx, ry, rz) = trunk.centre_mm, trunk.radii_mm
        raise OptionError(
            f"Lesion '{lesion.lesion_id}': the sphere of diameter {lesion.diameter_mm:g} mm "
            f"centred at {lesion.centre_mm} mm reaches outside the patient (trunk: elliptic "
            f"cylinder of half-axes {rx:g} × {ry:g} mm about x = {cx:g}, y = {cy:g}, z "
            f"{cz - rz:g}..{cz + rz:g} mm; plus neck and head). Move it inside or make it smaller."
        )


def _check_lesions_apart(lesions: Sequence[LesionSpec]) -> None:
    for a_i, a in enumerate(lesions):
        for b in lesions[a_i + 1 :]:
            gap = math.dist(a.centre_mm, b.centre_mm) - (a.diameter_mm + b.diameter_mm) / 2.0
            if gap < LESION_MIN_GAP_MM:
                raise OptionError(
                    f"Lesions '{a.lesion_id}' and '{b.lesion_id}' overlap by {-gap:.1f} mm; "
                    "the ground truth needs separate spheres. Move one or make it smaller."
                )


def blur_image(
    image: npt.NDArray[np.float64], *, spacing_mm: Sequence[float], fwhm_mm: float
) -> npt.NDArray[np.float64]:
    """Gaussian blur with an isotropic FWHM in mm (a scanner's point-spread function).

    Parameters
    ----------
    image
        ``(z, y, x)`` values; not modified.
    spacing_mm
        Voxel size ``(z, y, x)`` in mm.
    fwhm_mm
        Full width at half maximum in mm; 0 returns a float64 copy.

    Returns
    -------
    numpy.ndarray
        float64 array of the same shape. Boundaries are handled by reflecting (``nearest``).
    """
    data = np.asarray(image, dtype=np.float64)
    if not (math.isfinite(fwhm_mm) and fwhm_mm >= 0):
        raise OptionError(f"Blur FWHM must be finite and >= 0 mm, got {fwhm_mm}.")
    if fwhm_mm == 0:
        return data.copy()
    sigma = [fwhm_mm / FWHM_PER_SIGMA / float(s) for s in spacing_mm]
    return np.asarray(ndimage.gaussian_filter(data, sigma=sigma, mode="nearest"))


def add_pet_noise(
    suv: npt.NDArray[np.float64], *, noise: float, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Add Poisson-like Gaussian noise to an SUV image; negative results are clipped to 0.

    Parameters
    ----------
    suv
        ``(z, y, x)`` SUV values (g/mL); not modified.
    noise
        Coefficient of variation at SUV 1; the standard deviation is ``noise * sqrt(SUV)``
        (SUV in g/mL), as for counts that scale with the activity.
    rng
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        float64 array of the same shape.
    """
    data = np.asarray(suv, dtype=np.float64)
    if not (math.isfinite(noise) and noise >= 0):
        raise OptionError(f"Noise level must be finite and >= 0, got {noise}.")
    if noise == 0:
        return data.copy()
    sd = noise * np.sqrt(np.clip(data, 0.0, None))
    noisy = data + sd * rng.standard_normal(data.shape)
    return np.asarray(np.clip(noisy, 0.0, None))
