"""Image geometry: the :class:`ImageVolume` value object (STYLE 3.3, 3.4).

Arrays are indexed ``(z, y, x)`` = (slice, row, column). A 4×4 ``affine`` maps homogeneous
``(z, y, x, 1)`` indices to DICOM patient coordinates (LPS, mm). Spacing, origin and direction
are derived from the affine and never stored separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import GeometryError
from nenscope.core.units import ML_PER_MM3, Unit

__all__ = [
    "AFFINE_ATOL_MM",
    "ORTHOGONALITY_ATOL",
    "ImageVolume",
    "affine_from_dicom",
    "affine_from_spacing",
]

ORTHOGONALITY_ATOL = 1e-4
"""Max deviation of the dot product of two normalised direction vectors from 0."""

AFFINE_ATOL_MM = 1e-3
"""Max difference in mm between two affines that describe the same grid."""


def affine_from_spacing(
    spacing_mm: Sequence[float],
    *,
    origin_mm: Sequence[float] = (0.0, 0.0, 0.0),
    direction: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """Build an index→LPS affine from spacing, origin and direction.

    Parameters
    ----------
    spacing_mm
        Voxel size in mm in array order ``(z, y, x)``.
    origin_mm
        LPS position in mm of the centre of voxel ``(0, 0, 0)``, as ``(x, y, z)`` patient
        coordinates.
    direction
        3×3 matrix whose columns are the unit LPS vectors of the ``z``, ``y`` and ``x`` array
        axes. Defaults to an axial grid: ``z`` → +S, ``y`` → +P, ``x`` → +L.

    Returns
    -------
    numpy.ndarray
        4×4 float64 affine.

    Examples
    --------
    >>> a = affine_from_spacing((3.0, 2.0, 2.0), origin_mm=(-100.0, -100.0, 0.0))
    >>> (a @ [1, 1, 1, 1])[:3].tolist()
    [-98.0, -98.0, 3.0]
    """
    spacing = np.asarray(spacing_mm, dtype=np.float64)
    if spacing.shape != (3,) or not np.all(spacing > 0):
        raise GeometryError(f"spacing_mm must be 3 positive values (z, y, x), got {spacing_mm}.")
    if direction is None:
        dirs = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).T
    else:
        dirs = np.asarray(direction, dtype=np.float64)
    affine = np.eye(4)
    affine[:3, :3] = dirs * spacing[np.newaxis, :]
    affine[:3, 3] = np.asarray(origin_mm, dtype=np.float64)
    return affine


def affine_from_dicom(
    image_orientation: Sequence[float],
    first_position_mm: Sequence[float],
    *,
    pixel_spacing_mm: Sequence[float],
    slice_vector_mm: Sequence[float],
) -> npt.NDArray[np.float64]:
    """Build the affine of a slice stack from DICOM geometry attributes.

    Parameters
    ----------
    image_orientation
        ImageOrientationPatient (0020,0037): row direction cosines then column direction cosines.
    first_position_mm
        ImagePositionPatient (0020,0032) of the first slice of the sorted stack, LPS mm.
    pixel_spacing_mm
        PixelSpacing (0028,0030): ``(row spacing, column spacing)`` in mm, i.e. the distance
        between rows (along the column direction) first.
    slice_vector_mm
        LPS displacement in mm from one slice to the next in the sorted stack.

    Returns
    -------
    numpy.ndarray
        4×4 float64 affine mapping ``(z, y, x)`` indices to LPS mm.

    Notes
    -----
    DICOM PS3.3 C.7.6.2.1.1: the centre of pixel (column c, row r) is at
    ``P + c·Δcol·X + r·Δrow·Y`` with X the row direction cosine (first three values of
    ImageOrientationPatient) and Y the column direction cosine.
    """
    iop = np.asarray(image_orientation, dtype=np.float64)
    if iop.shape != (6,):
        raise GeometryError(f"ImageOrientationPatient must have 6 values, got {iop.tolist()}.")
    row_cos, col_cos = iop[:3], iop[3:]
    row_spacing, col_spacing = (float(v) for v in pixel_spacing_mm)
    affine = np.eye(4)
    affine[:3, 0] = np.asarray(slice_vector_mm, dtype=np.float64)
    affine[:3, 1] = col_cos * row_spacing
    affine[:3, 2] = row_cos * col_spacing
    affine[:3, 3] = np.asarray(first_position_mm, dtype=np.float64)
    return affine


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ImageVolume:
    """Scalar 3-D image; ``array`` is (z, y, x), ``affine`` maps indices to LPS mm.

    Parameters
    ----------
    array
        Voxel values, shape ``(z, y, x)``. Any real dtype; quantitative code converts to
        float64 itself.
    affine
        4×4 matrix mapping homogeneous ``(z, y, x, 1)`` indices to LPS mm.
    unit
        Unit of the voxel values.
    frame_of_reference_uid
        DICOM FrameOfReferenceUID (0020,0052) where known; two volumes in different frames of
        reference cannot be overlaid.

    Examples
    --------
    >>> vol = ImageVolume(array=np.zeros((2, 3, 4)), affine=np.eye(4), unit=Unit.HU)
    >>> vol.spacing_mm
    (1.0, 1.0, 1.0)
    """

    array: npt.NDArray[np.generic]
    affine: npt.NDArray[np.float64]
    unit: Unit
    frame_of_reference_uid: str | None = None
    _spacing: tuple[float, float, float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.array.ndim != 3 or self.affine.shape != (4, 4):
            raise GeometryError(
                "ImageVolume needs a 3-D (z, y, x) array and a 4x4 affine, "
                f"got array {self.array.shape} and affine {self.affine.shape}."
            )
        if not np.all(np.isfinite(self.affine)):
            raise GeometryError("ImageVolume affine contains non-finite values.")
        norms = np.linalg.norm(self.affine[:3, :3], axis=0)
        if not np.all(norms > 0):
            raise GeometryError(f"ImageVolume affine has a zero-length axis: spacing {norms}.")
        object.__setattr__(self, "_spacing", (float(norms[0]), float(norms[1]), float(norms[2])))

    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape ``(z, y, x)``."""
        z, y, x = self.array.shape
        return (int(z), int(y), int(x))

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """Voxel size in mm, ``(z, y, x)``, from the affine's column norms."""
        return self._spacing

    @property
    def origin_mm(self) -> tuple[float, float, float]:
        """LPS position in mm of the centre of voxel ``(0, 0, 0)``."""
        o = self.affine[:3, 3]
        return (float(o[0]), float(o[1]), float(o[2]))

    @property
    def direction(self) -> npt.NDArray[np.float64]:
        """3×3 matrix of unit LPS column vectors for the ``z``, ``y`` and ``x`` axes."""
        return np.asarray(self.affine[:3, :3] / np.asarray(self._spacing)[np.newaxis, :])

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in mL (absolute determinant of the affine's 3×3 part)."""
        return float(abs(np.linalg.det(self.affine[:3, :3]))) * ML_PER_MM3

    def index_to_lps(self, indices: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Map ``(N, 3)`` ``(z, y, x)`` indices (may be fractional) to ``(N, 3)`` LPS mm."""
        idx = np.atleast_2d(np.asarray(indices, dtype=np.float64))
        return np.asarray(idx @ self.affine[:3, :3].T + self.affine[:3, 3])

    def lps_to_index(self, points_mm: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Map ``(N, 3)`` LPS points in mm to fractional ``(z, y, x)`` indices."""
        pts = np.atleast_2d(np.asarray(points_mm, dtype=np.float64))
        inv = np.linalg.inv(self.affine)
        return np.asarray(pts @ inv[:3, :3].T + inv[:3, 3])

    def with_array(
        self, array: npt.NDArray[np.generic], *, unit: Unit | None = None
    ) -> ImageVolume:
        """Return a new volume on the same grid with other values (and optionally unit)."""
        if array.shape != self.array.shape:
            raise GeometryError(f"with_array needs shape {self.array.shape}, got {array.shape}.")
        return ImageVolume(
            array=array,
            affine=self.affine.copy(),
            unit=self.unit if unit is None else unit,
            frame_of_reference_uid=self.frame_of_reference_uid,
        )

    def same_grid(self, other: ImageVolume, *, atol_mm: float = AFFINE_ATOL_MM) -> bool:
        """Whether ``other`` has the same shape and the same affine within ``atol_mm``."""
        return self.shape == other.shape and bool(
            np.allclose(self.affine, other.affine, atol=atol_mm, rtol=0.0)
        )
