"""Automatic estimate of the body, liver and spleen from PET (and CT when available).

Method (documented in docs/analysis.md; every constant below is a named setting):

1. **Body**: CT > -300 HU on the PET grid when a CT is given, else the SUV image smoothed with
   a 1-voxel Gaussian above 10 % of the median of its positive values; the largest connected
   component, holes filled slice by slice.
2. **Midline**: the median patient x (LPS) of the body voxels. Patient right is -x (LPS).
3. **Trunk slices**: axial slices whose body width (left-right) is at least 60 % of the widest
   slice; this removes the head, neck and legs.
4. **Homogeneous uptake**: the SUV image smoothed with a 1-voxel Gaussian; the local mean and
   SD in a cube of ``window_mm``; homogeneous where SD/mean < ``max_cv`` and the local mean is at
   least ``min_uptake_ratio`` × the body median SUV; with a CT, also 0–300 HU (soft tissue,
   with or without contrast).
5. **Liver**: the largest connected homogeneous region in the trunk on the patient's right
   (its *core*; holes such as metastases are filled), grown by ``grow_mm`` within the body
   where the smoothed SUV is at least midway between the body median and the core median,
   holes filled again (the whole organ with its lesions, for the liver-adaptive threshold).
6. **Spleen**: the largest connected homogeneous region in the trunk on the patient's left whose
   centroid lies within the liver's craniocaudal extent (upper abdomen; this excludes the left
   kidney and the heart).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core import EmptyRegionError, ImageVolume, NotComputableError
from nenscope.core.threads import side_by_side
from nenscope.segmentation._labels import bounding_box, label_counts
from nenscope.segmentation.lesions import grow_mask_mm
from nenscope.segmentation.morphology import binary_dilation_in_box, binary_opening_in_box
from nenscope.segmentation.resample import resample_to

__all__ = [
    "OrganEstimate",
    "OrganSettings",
    "estimate_organs",
    "field_of_view_mm",
    "fill_holes_per_slice",
    "is_axial",
    "largest_component",
    "lps_axes",
    "pet_body",
]

CT_BODY_HU = -300.0
"""Body outline on CT: voxels above this value (air and lung are below)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrganSettings:
    """Constants of :func:`estimate_organs`.

    Attributes
    ----------
    window_mm
        Edge of the cube for local mean/SD, mm.
    max_cv
        Maximum local SD / mean for homogeneous tissue.
    min_uptake_ratio
        Minimum local mean / body median SUV for an organ with specific uptake.
    trunk_width_fraction
        Slices narrower than this fraction of the widest slice are not trunk.
    ct_soft_tissue_hu
        (low, high) HU of soft tissue including contrast enhancement.
    grow_mm
        Distance in mm by which the homogeneous core is grown back to the organ edge.
    min_ct_coverage
        Fraction of the PET slices a CT must cover to outline the body; a smaller CT (e.g.
        cropped around a lesion) is not used for the body and organs.
    max_liver_extent_mm
        A liver estimate longer than this craniocaudally is not a liver (e.g. on FDG PET, where
        the liver is not avid, the "largest homogeneous region on the right" can be half the
        body) and is not used. Hepatomegaly with a Riedel lobe stays below ~300 mm.
    max_liver_volume_ml
        Likewise for the volume (massive hepatomegaly from metastases stays below ~8 L).
    opening_mm
        Radius of the opening that separates the liver core from joined tissue, used only when
        the plain estimate is implausible.
    min_fov_mm
        A body shorter than this craniocaudally (a slab, e.g. a liver SPECT) gives no organ
        estimate: the positions of organs cannot be told apart there.
    min_liver_right_mm
        The liver lies in the right upper quadrant: an estimate whose centroid lies less than
        this right of the midline is other tissue (on a PET of the thorax that shows only the
        dome, the right half of the heart and its blood pool; the liver's centroid lies ~60 mm
        right of the midline on the real FDG studies).
    """

    window_mm: float = 20.0
    max_cv: float = 0.15
    min_uptake_ratio: float = 1.5
    trunk_width_fraction: float = 0.6
    ct_soft_tissue_hu: tuple[float, float] = (0.0, 300.0)
    grow_mm: float = 25.0
    min_ct_coverage: float = 0.8
    max_liver_extent_mm: float = 350.0
    max_liver_volume_ml: float = 8000.0
    opening_mm: float = 10.0
    min_fov_mm: float = 250.0
    min_liver_right_mm: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class OrganEstimate:
    """Result of :func:`estimate_organs`; masks are bool (z, y, x) on the SUV grid.

    Attributes
    ----------
    body, liver, spleen
        Masks; ``liver``/``spleen`` are None when not found.
    midline_x_mm
        Patient x (LPS, mm) of the body midline.
    trunk_slices
        Bool per axial slice (array ``z``): slice belongs to the trunk.
    body_median_suv
        Median SUV inside the body.
    ct_on_pet
        The CT resampled onto the PET grid (HU), or None without CT.
    notes
        What was found and how.
    smooth
        The SUV smoothed with a Gaussian of 1 voxel (what the masks were found on; the
        anatomy uses the same), or None.
    body_from_ct
        Whether ``body`` is the CT's outline on every slice,
        ``fill_holes_per_slice(largest_component(ct_on_pet > CT_BODY_HU))`` (the anatomy's
        body wherever the CT covers every slice), rather than the PET's.
    pet_body
        The body outline on PET alone, :func:`pet_body` of ``smooth`` (``body`` itself
        without CT), or None: the anatomy tells the slices with CT by it.
    """

    body: npt.NDArray[np.bool_]
    liver: npt.NDArray[np.bool_] | None
    spleen: npt.NDArray[np.bool_] | None
    midline_x_mm: float
    trunk_slices: npt.NDArray[np.bool_]
    body_median_suv: float
    ct_on_pet: ImageVolume | None
    notes: tuple[str, ...]
    smooth: npt.NDArray[np.float64] | None = None
    body_from_ct: bool = False
    pet_body: npt.NDArray[np.bool_] | None = None


def lps_axes(volume: ImageVolume) -> tuple[npt.NDArray[np.float64], ...]:
    """Broadcastable LPS x, y, z (mm) of the voxel centres; any affine (full arrays if oblique).

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, y, z)``, each broadcastable to the volume shape (z, y, x).
    """
    a = volume.affine
    k = np.arange(volume.shape[0], dtype=np.float64)[:, None, None]
    j = np.arange(volume.shape[1], dtype=np.float64)[None, :, None]
    i = np.arange(volume.shape[2], dtype=np.float64)[None, None, :]
    out = []
    for r in range(3):
        # Only axes with a non-zero coefficient enter, so axial grids give thin arrays.
        total = np.full((1, 1, 1), a[r, 3])
        for c, axis in zip(a[r, :3], (k, j, i), strict=True):
            if c != 0.0:
                total = total + c * axis
        out.append(total)
    return tuple(out)


def is_axial(volume: ImageVolume) -> bool:
    """Whether array ``z`` runs along patient z and the rows and columns lie in axial planes.

    Examples
    --------
    >>> import numpy as np
    >>> from nenscope.core import ImageVolume, Unit, affine_from_spacing
    >>> v = ImageVolume(array=np.zeros((2, 2, 2)), affine=affine_from_spacing((3, 1, 1)),
    ...                 unit=Unit.HU)
    >>> is_axial(v)
    True
    """
    d = volume.direction
    tol = 1e-3
    return bool(abs(abs(d[2, 0]) - 1.0) < tol and abs(d[2, 1]) < tol and abs(d[2, 2]) < tol)


def largest_component(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Return the largest face-connected component (the first in raster order on a tie).

    Labelled on the mask's bounding box only: outside it there is nothing to connect, and
    the box keeps the raster order of the voxels, so the components, their numbering and the
    tie-break are those of the whole grid (the body's box is about half of a PET grid).
    """
    out = np.zeros(mask.shape, dtype=bool)
    try:
        box = bounding_box(mask)
    except EmptyRegionError:
        return out
    labels, _ = ndimage.label(mask[box])
    sizes = label_counts(labels)
    sizes[0] = 0
    out[box] = labels == int(np.argmax(sizes))
    return out


def _body_mask(
    smooth: npt.NDArray[np.float64], ct: npt.NDArray[np.float64] | None
) -> npt.NDArray[np.bool_]:
    if ct is not None:
        return fill_holes_per_slice(largest_component(ct > CT_BODY_HU))
    if not (smooth > 0).any():
        raise EmptyRegionError("The SUV image has no positive voxel; no body to find.")
    return pet_body(smooth)


def fill_holes_per_slice(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Fill holes in every axial slice (lungs, bowel gas) with one labelling call.

    The complement is labelled with in-slice connectivity only; its components that do not
    touch the slice border are holes.

    Examples
    --------
    >>> import numpy as np
    >>> ring = np.ones((1, 3, 3), dtype=bool); ring[0, 1, 1] = False
    >>> bool(fill_holes_per_slice(ring)[0, 1, 1])
    True
    """
    out = np.zeros(mask.shape, dtype=bool)
    try:
        box = bounding_box(mask)
    except EmptyRegionError:
        return out
    # On the mask's bounding box only: a background region that touches the box's side is
    # joined, in the slice, to the background outside the box, which touches the slice's
    # border; one that does not is enclosed in both. Slices outside the box stay empty.
    out[box] = _fill_holes_in_box(mask[box])
    return out


def _fill_holes_in_box(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)
    labels, _ = ndimage.label(~mask, structure)
    border = np.unique(
        np.concatenate(
            [
                labels[:, 0, :].ravel(),
                labels[:, -1, :].ravel(),
                labels[:, :, 0].ravel(),
                labels[:, :, -1].ravel(),
            ]
        )
    )
    # A lookup table instead of np.isin: one gather over the volume, not a sort.
    is_border = np.zeros(int(labels.max()) + 1, dtype=bool)
    is_border[border[border > 0]] = True
    return np.asarray(~is_border[labels])


SPLEEN_LATERAL_MM = 40.0
"""The spleen's voxels lie at least this far left of the midline, mm."""

SPLEEN_ANTERIOR_MM = 20.0
"""... and no more than this anterior of the body's median y (the spleen is posterior), mm."""

PET_BODY_FRACTION = 0.2
"""PET body outline: above this fraction of the median uptake of the tissue (module step 2)."""


def pet_body(smooth: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Body outline on PET alone: the smoothed SUV above a fraction of the tissue's median.

    The tissue is what lies above 5 % of the 99th percentile (the air around the body has
    near-zero, noisy values, which a median over all positive voxels would be dominated by).
    """
    positive = smooth[smooth > 0]
    if positive.size == 0:
        return np.zeros(smooth.shape, dtype=bool)
    tissue = positive[positive > 0.05 * float(np.percentile(positive, 99))]
    level = PET_BODY_FRACTION * float(np.median(tissue))
    return fill_holes_per_slice(largest_component(smooth > level))


def field_of_view_mm(body: npt.NDArray[np.bool_], volume: ImageVolume) -> float:
    """Craniocaudal extent (mm) of the slices that hold body voxels."""
    rows = np.flatnonzero(body.any(axis=(1, 2)))
    if rows.size == 0:
        return 0.0
    return float(rows.max() - rows.min() + 1) * volume.spacing_mm[0]


def _ball_mm(radius_mm: float, spacing: tuple[float, float, float]) -> npt.NDArray[np.bool_]:
    """Ball structuring element of ``radius_mm`` on an anisotropic grid."""
    half = [max(1, int(radius_mm // s)) for s in spacing]
    grids = np.ogrid[tuple(slice(-h, h + 1) for h in half)]
    dist = sum((g * s) ** 2 for g, s in zip(grids, spacing, strict=True))
    return np.asarray(dist <= radius_mm**2)


def _homogeneous(
    smooth: npt.NDArray[np.float64],
    spacing: tuple[float, float, float],
    body_median: float,
    settings: OrganSettings,
) -> npt.NDArray[np.bool_]:
    size = [max(3, round(settings.window_mm / s) | 1) for s in spacing]
    mean, sq = side_by_side(
        lambda: ndimage.uniform_filter(smooth, size=size, mode="nearest"),
        lambda: ndimage.uniform_filter(smooth * smooth, size=size, mode="nearest"),
    )
    sd = np.sqrt(np.clip(sq - mean * mean, 0.0, None))
    return np.asarray(
        (mean >= settings.min_uptake_ratio * body_median)
        & (sd < settings.max_cv * np.maximum(mean, 1e-12))
    )


def _trunk(
    body: npt.NDArray[np.bool_], spacing_x: float, fraction: float
) -> npt.NDArray[np.bool_]:
    widths = body.any(axis=1).sum(axis=1) * spacing_x
    return np.asarray(widths >= fraction * widths.max()) if widths.max() > 0 else widths > 0


def _ct_for_body(
    ct: ImageVolume | None,
    ct_on_pet: ImageVolume | None,
    suv: ImageVolume,
    settings: OrganSettings,
) -> tuple[npt.NDArray[np.float64] | None, str | None]:
    """CT values on the PET grid for the body outline, or None (with the reason) if unusable.

    A CT that covers only part of the PET (e.g. cropped around a lesion) cannot outline the
    body: the organs would be searched inside the crop only. The PET is used then.
    """
    if ct is None or ct_on_pet is None:
        return None, None
    covered = _covered_slices(ct, suv)
    if covered < settings.min_ct_coverage:
        return None, f"CT covers {100 * covered:.0f} % of the PET slices: body and organs from PET"
    return np.asarray(ct_on_pet.array, dtype=np.float64), None


def _covered_slices(ct: ImageVolume, suv: ImageVolume) -> float:
    """Fraction of the PET slices with at least one voxel centre inside the CT volume.

    From the geometry alone (a voxel centre is inside when its CT index lies in [0, n - 1] on
    every axis), which is what resampling an all-ones CT would give, without a float64 volume
    of the CT's size (1.2 GB and ~5 s for a 512² × 600 CT).
    """
    mapping = np.linalg.inv(ct.affine) @ suv.affine
    nz, ny, nx = suv.shape
    jj, ii = np.meshgrid(
        np.arange(ny, dtype=np.float64), np.arange(nx, dtype=np.float64), indexing="ij"
    )
    column = mapping[:3, :, None, None]
    plane = column[:, 1] * jj + column[:, 2] * ii + column[:, 3]
    # map_coordinates (mode "constant") takes cval outside [0, n - 1] even for order 0.
    upper = np.asarray(ct.shape, dtype=np.float64)[:, None, None] - 1.0
    covered = 0
    for k in range(nz):
        index = plane + column[:, 0] * float(k)
        covered += bool(np.all((index >= 0.0) & (index <= upper), axis=0).any())
    return covered / nz


def _implausible_liver(
    liver: npt.NDArray[np.bool_],
    z_full: npt.NDArray[np.float64],
    suv: ImageVolume,
    settings: OrganSettings,
    body_z: tuple[float, float] | None = None,
    right_mm: float | None = None,
) -> str | None:
    """Why a liver estimate is not a liver (too long or too large), or None if plausible.

    It is not a liver either when it reaches both the top and the bottom slice of the body in
    the image (``body_z``, patient z of those slices): the field of view is at least
    ``min_fov_mm`` long here, longer than a liver, so the estimate holds other tissue (on a
    PET of the head, neck and thorax: the mediastinum and the muscles of the raised arms).
    """
    liver_z = z_full[liver]
    extent_mm = float(liver_z.max() - liver_z.min()) + suv.spacing_mm[0]
    volume_ml = float(np.count_nonzero(liver)) * suv.voxel_volume_ml
    half = 0.5 * suv.spacing_mm[0]
    spans = (
        body_z is not None
        and float(liver_z.min()) <= body_z[0] + half
        and float(liver_z.max()) >= body_z[1] - half
    )
    if right_mm is not None and right_mm < settings.min_liver_right_mm:
        return (
            f"liver estimate not used: its centre lies {right_mm:.0f} mm right of the midline "
            f"(a liver's lies >= {settings.min_liver_right_mm:g} mm right); give the liver "
            "reference with --liver-mm or --liver-mask"
        )
    if spans:
        return (
            f"liver estimate not used: {volume_ml:.0f} mL reaching both ends of the field of "
            f"view ({extent_mm:.0f} mm) is not a liver; give the liver reference with "
            "--liver-mm or --liver-mask"
        )
    if extent_mm <= settings.max_liver_extent_mm and volume_ml <= settings.max_liver_volume_ml:
        return None
    return (
        f"liver estimate not used: {volume_ml:.0f} mL over {extent_mm:.0f} mm craniocaudally "
        f"is not a liver (expected <= {settings.max_liver_volume_ml:g} mL and <= "
        f"{settings.max_liver_extent_mm:g} mm; the liver may not be avid on this tracer); give "
        "the liver reference with --liver-mm or --liver-mask"
    )


def estimate_organs(  # noqa: C901 - one step per organ, in order
    suv: ImageVolume, ct: ImageVolume | None = None, *, settings: OrganSettings | None = None
) -> OrganEstimate:
    """Estimate body, liver and spleen masks on the SUV grid (method in the module docstring).

    Parameters
    ----------
    suv
        SUV image (z, y, x); the affine must be axial (array ``z`` along patient z).
    ct
        Optional CT in HU in the same frame of reference; resampled onto the SUV grid.
    settings
        Constants of the method.

    Returns
    -------
    OrganEstimate
        Masks (None for an organ not found) and notes.

    Raises
    ------
    EmptyRegionError
        If no body is found.
    NotComputableError
        If the SUV grid is not axial (the method works on axial slices).
    """
    if not is_axial(suv):
        raise NotComputableError(
            "Automatic organ estimation needs an axial PET grid (array z along patient z); "
            "give the reference regions as points or masks."
        )
    settings = OrganSettings() if settings is None else settings
    values = np.asarray(suv.array, dtype=np.float64)
    # Two independent whole-grid steps that release the GIL: side by side on 2 cores.
    smooth, ct_on_pet = side_by_side(
        lambda: ndimage.gaussian_filter(values, 1.0),
        lambda: None if ct is None else resample_to(ct, suv, order=1, cval=-1000.0),
    )
    ct_values, coverage_note = _ct_for_body(ct, ct_on_pet, suv, settings)
    if ct_values is None:
        body = _body_mask(smooth, None)
        outline = body
    else:
        # The anatomy compares each CT slice with the PET's own outline: found meanwhile.
        body, outline = side_by_side(
            lambda: _body_mask(smooth, ct_values), lambda: pet_body(smooth)
        )
    if not body.any():
        raise EmptyRegionError("No body found in the image.")
    x, _, z = lps_axes(suv)
    fov_mm = field_of_view_mm(body, suv)
    if fov_mm < settings.min_fov_mm:
        return OrganEstimate(
            body=body,
            liver=None,
            spleen=None,
            midline_x_mm=float(np.median(np.broadcast_to(x, suv.shape)[body])),
            trunk_slices=np.zeros(suv.shape[0], dtype=bool),
            body_median_suv=float(np.median(values[body])),
            ct_on_pet=ct_on_pet,
            smooth=smooth,
            body_from_ct=ct_values is not None,
            pet_body=outline,
            notes=(
                f"field of view {fov_mm:.0f} mm craniocaudally (< {settings.min_fov_mm:g} mm): "
                "too short to estimate the organs by their position; give the references as "
                "points or masks",
            ),
        )
    x_full = np.broadcast_to(x, suv.shape)
    midline = float(np.median(x_full[body]))
    body_median = float(np.median(values[body]))
    trunk = _trunk(body, suv.spacing_mm[2], settings.trunk_width_fraction)
    tissue = np.zeros(suv.shape, dtype=bool)
    trunk_body = body & trunk[:, None, None]
    if trunk_body.any():
        # Local statistics only on the trunk's bounding box (the costliest step).
        box = bounding_box(trunk_body)
        homogeneous = _homogeneous(smooth[box], suv.spacing_mm, body_median, settings)
        tissue[box] = trunk_body[box] & homogeneous
    if ct_values is not None:
        low, high = settings.ct_soft_tissue_hu
        tissue &= (ct_values >= low) & (ct_values <= high)
    notes = [
        f"body from {'CT > -300 HU' if ct_values is not None else 'PET'}; "
        f"midline x = {midline:.1f} mm"
    ]
    if coverage_note is not None:
        notes.insert(0, coverage_note)
    # Opening cuts thin joins of the homogeneous tissue (liver to abdominal wall, muscles of
    # raised arms) so that the largest part on the right is the liver itself.
    z_full = np.broadcast_to(z, suv.shape)
    right = tissue & (x_full < midline)
    liver = _grow_organ(
        _fill_holes_3d(largest_component(right)),
        smooth,
        body,
        suv.spacing_mm,
        settings.grow_mm,
        body_median,
    )
    z_axis = np.broadcast_to(z, suv.shape)[:, 0, 0]
    body_z_rows = z_axis[body.any(axis=(1, 2))]
    body_z = (float(body_z_rows.min()), float(body_z_rows.max()))

    def implausible(mask: npt.NDArray[np.bool_]) -> str | None:
        right_mm = midline - float(x_full[mask].mean())
        return _implausible_liver(mask, z_full, suv, settings, body_z, right_mm)

    if liver.any() and implausible(liver) is not None:
        # Joined to other tissue (e.g. the muscles of raised arms on FDG): cut thin joins.
        core = _liver_core(right, suv.spacing_mm, settings.opening_mm)
        liver = _grow_organ(core, smooth, body, suv.spacing_mm, settings.grow_mm, body_median)
        notes.append(f"liver core separated by a {settings.opening_mm:g} mm opening")
    if not liver.any():
        notes.append("liver not found (no homogeneous uptake region on the patient's right)")
    else:
        why = implausible(liver)
        if why is not None:
            notes.append(why)
            liver = np.zeros_like(liver)
    # The spleen lies left-posterior (not the stomach or the left liver lobe at the midline).
    y_full = np.broadcast_to(lps_axes(suv)[1], suv.shape)
    left = (
        tissue
        & (x_full > midline + SPLEEN_LATERAL_MM)
        & (y_full > float(np.median(y_full[body])) - SPLEEN_ANTERIOR_MM)
    )
    spleen = _spleen(left, liver, z_full) if liver.any() else None
    if spleen is not None:
        spleen = _grow_organ(
            _fill_holes_3d(spleen), smooth, body, suv.spacing_mm, settings.grow_mm, body_median
        )
    if spleen is None:
        notes.append("spleen not found in the left upper abdomen")
    return OrganEstimate(
        body=body,
        liver=liver if liver.any() else None,
        spleen=spleen,
        midline_x_mm=midline,
        trunk_slices=trunk,
        body_median_suv=body_median,
        ct_on_pet=ct_on_pet,
        notes=tuple(notes),
        smooth=smooth,
        body_from_ct=ct_values is not None,
        pet_body=outline,
    )


def _liver_core(
    right: npt.NDArray[np.bool_], spacing: tuple[float, float, float], opening_mm: float
) -> npt.NDArray[np.bool_]:
    """Largest part of the homogeneous tissue on the right after an opening, holes filled."""
    ball = _ball_mm(opening_mm, spacing)
    # ndimage.binary_opening/binary_dilation's results, computed on the mask's bounding box
    # only (segmentation/morphology.py): 5 of 9 s of the organ estimate on a whole body.
    core = largest_component(binary_opening_in_box(right, ball))
    if core.any():
        # Back to the organ's own edge (what the opening shaved off), not across the cut.
        core = binary_dilation_in_box(core, ball) & right
    return _fill_holes_3d(core)


def _grow_organ(
    core: npt.NDArray[np.bool_],
    smooth: npt.NDArray[np.float64],
    body: npt.NDArray[np.bool_],
    spacing: tuple[float, float, float],
    margin_mm: float,
    body_median: float,
) -> npt.NDArray[np.bool_]:
    """Grow a core back to the organ edge: within ``margin_mm``, above the mid level."""
    if not core.any():
        return core
    level = 0.5 * (float(np.median(smooth[core])) + body_median)
    grown = grow_mask_mm(core, spacing, margin_mm) & body & (smooth >= level) | core
    return _fill_holes_3d(grown)


def _fill_holes_3d(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """``binary_fill_holes`` on the mask's bounding box only."""
    out = np.asarray(mask, dtype=bool).copy()
    if not out.any():
        return out
    box = bounding_box(out)
    out[box] = ndimage.binary_fill_holes(out[box])
    return out


def _spleen(
    left: npt.NDArray[np.bool_], liver: npt.NDArray[np.bool_], z: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_] | None:
    z_lo, z_hi = float(z[liver].min()), float(z[liver].max())
    try:
        box = bounding_box(left)
    except EmptyRegionError:
        return None
    # Labelled on the bounding box of ``left`` only (same components, same raster order, so
    # the same sums and tie-break as on the whole grid).
    labels, n = ndimage.label(left[box])
    index = np.arange(1, n + 1)
    where = labels > 0
    lab = labels[where]
    sizes = np.bincount(lab, minlength=n + 1)[1:].astype(np.float64)
    centroid_z = np.bincount(lab, weights=z[box][where], minlength=n + 1)[1:] / np.maximum(
        sizes, 1
    )
    ok = (centroid_z >= z_lo) & (centroid_z <= z_hi)
    if not ok.any():
        return None
    best = int(index[ok][np.argmax(sizes[ok])])
    out = np.zeros(left.shape, dtype=bool)
    out[box] = labels == best
    return out
