"""Rigid CT-to-CT registration (SimpleITK) to match lesions between two studies.

Two studies of one patient (baseline and follow-up, or SSTR and FDG PET/CT) lie in different
frames of reference. :func:`register_ct` finds the rigid transform that maps patient
coordinates of the moving study onto the fixed study, from their CTs: both are resampled to a
coarse isotropic grid, and a 3-D Euler transform is optimised for Mattes mutual information
from a centre-of-mass start (multi-resolution, regular-step gradient descent). Lesion centroids
of the moving study are then mapped with the returned 4×4 affine.

References
----------
Mattes D et al. PET-CT image registration in the chest using free-form deformations. IEEE
Trans Med Imaging 2003;22:120-128 (the mutual-information metric); SimpleITK registration
framework (Lowekamp BC et al. Front Neuroinform 2013;7:45).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import NotComputableError
from nenscope.core.geometry import ImageVolume


class _SimpleITK:
    """SimpleITK, imported on first use.

    Its import costs 0.2-0.5 s that an analysis without registration (every study without a
    prior or an FDG study) does not pay.
    """

    def __getattr__(self, name: str) -> Any:
        import SimpleITK  # deferred on purpose (class docstring)

        return getattr(SimpleITK, name)


sitk: Any = _SimpleITK()  # SimpleITK has no type annotations

__all__ = ["REGISTRATION_SPACING_MM", "Registration", "register_ct", "to_sitk"]

REGISTRATION_SPACING_MM = 6.0
"""Isotropic grid (mm) on which the CTs are registered: lesions move by more than this only if
the patient does, and a coarse grid keeps the registration at about a second."""

_BODY_HU = -400.0
"""Voxels above this CT number are body (for the centre-of-mass start and the metric mask)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Registration:
    """A rigid registration result.

    Parameters
    ----------
    moving_to_fixed
        4×4 affine mapping moving-study LPS mm to fixed-study LPS mm.
    metric
        Final Mattes mutual information (negative; lower is better).
    translation_mm
        Translation part of ``moving_to_fixed``, mm.
    rotation_deg
        Angle of the rotation part, degrees.
    method
        Description for the report.
    """

    moving_to_fixed: npt.NDArray[np.float64]
    metric: float
    translation_mm: tuple[float, float, float]
    rotation_deg: float
    method: str

    def map_points(self, points_mm: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Map ``(N, 3)`` moving-study LPS points to the fixed study."""
        pts = np.atleast_2d(np.asarray(points_mm, dtype=np.float64))
        return np.asarray(pts @ self.moving_to_fixed[:3, :3].T + self.moving_to_fixed[:3, 3])


def to_sitk(volume: ImageVolume) -> Any:
    """Convert an :class:`ImageVolume` to a SimpleITK image (float32) with the same geometry.

    SimpleITK indexes ``(x, y, z)`` = (column, row, slice), the reverse of our ``(z, y, x)``;
    its direction matrix holds the LPS unit vectors of those index axes as columns.
    """
    image = sitk.GetImageFromArray(np.asarray(volume.array, dtype=np.float32))
    spacing = volume.spacing_mm
    image.SetSpacing((spacing[2], spacing[1], spacing[0]))
    image.SetOrigin(volume.origin_mm)
    image.SetDirection(tuple(float(v) for v in volume.direction[:, ::-1].ravel()))
    return image


def _coarse(image: Any, spacing_mm: float) -> Any:
    size = [
        max(round(n * s / spacing_mm), 8)
        for n, s in zip(image.GetSize(), image.GetSpacing(), strict=True)
    ]
    smoothed = sitk.SmoothingRecursiveGaussian(image, spacing_mm / 2.0)
    return sitk.Resample(
        smoothed,
        size,
        sitk.Transform(),
        sitk.sitkLinear,
        image.GetOrigin(),
        (spacing_mm,) * 3,
        image.GetDirection(),
        -1000.0,
        sitk.sitkFloat32,
    )


def _affine_of(transform: Any) -> npt.NDArray[np.float64]:
    """4×4 affine of a SimpleITK transform (it maps fixed points to moving points)."""
    matrix = np.asarray(transform.GetMatrix(), dtype=np.float64).reshape(3, 3)
    centre = np.asarray(transform.GetCenter(), dtype=np.float64)
    translation = np.asarray(transform.GetTranslation(), dtype=np.float64)
    affine = np.eye(4)
    affine[:3, :3] = matrix
    affine[:3, 3] = translation + centre - matrix @ centre
    return affine


def register_ct(
    fixed: ImageVolume, moving: ImageVolume, *, spacing_mm: float = REGISTRATION_SPACING_MM
) -> Registration:
    """Rigidly register the ``moving`` CT onto the ``fixed`` CT.

    Parameters
    ----------
    fixed
        CT of the reference study (HU).
    moving
        CT of the other study (HU).
    spacing_mm
        Isotropic registration grid, mm.

    Returns
    -------
    Registration
        ``moving_to_fixed`` maps moving-study LPS mm to fixed-study LPS mm.

    Raises
    ------
    NotComputableError
        If either CT holds no body or the optimiser fails.
    """
    fixed_img = _coarse(to_sitk(fixed), spacing_mm)
    moving_img = _coarse(to_sitk(moving), spacing_mm)
    for name, img in (("fixed", fixed_img), ("moving", moving_img)):
        if not np.any(sitk.GetArrayViewFromImage(img) > _BODY_HU):
            raise NotComputableError(f"Cannot register: the {name} CT shows no body (> -400 HU).")
    start = sitk.CenteredTransformInitializer(
        sitk.Cast(fixed_img > _BODY_HU, sitk.sitkFloat32),
        sitk.Cast(moving_img > _BODY_HU, sitk.sitkFloat32),
        sitk.Euler3DTransform(),
        sitk.CenteredTransformInitializerFilter.MOMENTS,
    )
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=32)
    method.SetMetricSamplingStrategy(method.REGULAR)
    method.SetMetricSamplingPercentage(0.5, seed=1)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=4.0, minStep=0.05, numberOfIterations=200, relaxationFactor=0.5
    )
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel([2, 1])
    method.SetSmoothingSigmasPerLevel([1.0, 0.0])
    method.SetInitialTransform(start, inPlace=False)
    try:
        result = method.Execute(fixed_img, moving_img)
    except RuntimeError as err:
        raise NotComputableError(f"CT registration failed: {err}") from err
    euler = sitk.Euler3DTransform(sitk.CompositeTransform(result).GetNthTransform(0))
    fixed_to_moving = _affine_of(euler)
    moving_to_fixed = np.asarray(np.linalg.inv(fixed_to_moving), dtype=np.float64)
    cos = np.clip((np.trace(moving_to_fixed[:3, :3]) - 1.0) / 2.0, -1.0, 1.0)
    t = moving_to_fixed[:3, 3]
    return Registration(
        moving_to_fixed=moving_to_fixed,
        metric=float(method.GetMetricValue()),
        translation_mm=(float(t[0]), float(t[1]), float(t[2])),
        rotation_deg=float(np.degrees(np.arccos(cos))),
        method=(
            f"rigid CT-CT registration (SimpleITK Euler 3-D, Mattes mutual information, "
            f"{spacing_mm:g} mm grid, centre-of-mass start)"
        ),
    )
