"""Masks on an image grid from NIfTI, DICOM SEG or RTSTRUCT files.

Every mask comes back as a ``bool`` array with the reference image's shape ``(z, y, x)``. A mask
whose frame of reference or grid does not match the reference is refused with the reason; nothing
is resampled silently.

RTSTRUCT contours are rasterised slice by slice. **Convention:** a voxel belongs to an ROI when
its *centre* lies inside the closed planar contour (scikit-image ``polygon2mask``, pixel centres
at integer indices); several contours of one ROI on one slice combine by the even-odd rule
(XOR), so a contour inside another is a hole. Voxels whose centre lies exactly on the contour
line are decided by scikit-image's point-in-polygon test and may fall on either side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from nenscope.core.arrays import distinct
from nenscope.core.diagnostics import warn
from nenscope.core.errors import (
    DicomDeviationWarning,
    DicomImportError,
    GeometryError,
    MissingAttributeError,
)
from nenscope.core.geometry import ImageVolume

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

__all__ = [
    "CONTOUR_PLANE_ATOL",
    "MASK_GRID_ATOL_MM",
    "read_mask",
    "read_nifti_mask",
    "read_rtstruct_mask",
    "read_seg_mask",
]

MASK_GRID_ATOL_MM = 0.05
"""Max distance in mm between a mask's voxel centres and the reference grid's.

DICOM decimal strings carry positions to about 1e-4 mm and float32 NIfTI headers to about
1e-5 relative; 0.05 mm is far below any voxel size and far above such rounding.
"""

CONTOUR_PLANE_ATOL = 0.1
"""Max distance of an RTSTRUCT contour from a slice centre, in slices, before a warning."""


def read_mask(path: Path, reference: ImageVolume) -> dict[str, npt.NDArray[np.bool_]]:
    """Read the masks in ``path`` onto the grid of ``reference``.

    Parameters
    ----------
    path
        A NIfTI file (``.nii``/``.nii.gz``), a DICOM SEG or an RTSTRUCT file, or a folder holding
        exactly one DICOM SEG or RTSTRUCT file.
    reference
        The image the mask belongs to.

    Returns
    -------
    dict
        Name → bool ``(z, y, x)`` mask with ``reference.shape``. NIfTI: one ``"mask"`` for a
        binary file, else ``"label_<n>"`` per label; SEG: the SegmentLabel; RTSTRUCT: the
        ROIName.

    Raises
    ------
    DicomImportError
        Unreadable file, unsupported object, or a frame of reference / grid that does not match
        the reference (:class:`~nenscope.core.errors.GeometryError` for grid mismatches).
    """
    path = Path(path)
    if path.is_dir():
        path = _single_mask_file(path)
    if path.name.endswith((".nii", ".nii.gz")):
        return read_nifti_mask(path, reference)
    # pydicom loads for DICOM masks only (issue 9, item 6: a NIfTI call stays without it).
    from nenscope.dicom._io import get_str, read_dataset

    ds, _ = read_dataset(path, headers_only=False)
    modality = get_str(ds, "Modality")
    if modality == "SEG":
        return read_seg_mask(ds, reference, path=path)
    if modality == "RTSTRUCT":
        return read_rtstruct_mask(ds, reference, path=path)
    raise DicomImportError(
        f"{path}: Modality (0008,0060) is '{modality or 'missing'}'; a mask file must be NIfTI, "
        "a DICOM SEG or an RTSTRUCT."
    )


def _single_mask_file(folder: Path) -> Path:
    from nenscope.dicom._io import peek_modality

    candidates = []
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        if p.name.endswith((".nii", ".nii.gz")):
            candidates.append(p)
            continue
        if peek_modality(p) in ("SEG", "RTSTRUCT"):
            candidates.append(p)
    if len(candidates) != 1:
        raise DicomImportError(
            f"{folder} holds {len(candidates)} mask files (NIfTI, SEG or RTSTRUCT); pass the "
            "file itself."
        )
    return candidates[0]


def read_nifti_mask(path: Path, reference: ImageVolume) -> dict[str, npt.NDArray[np.bool_]]:
    """Read a NIfTI mask or label map; refuse it unless it covers the reference grid.

    A mask stored with its axes in another order or direction (e.g. RAS-ordered from another
    tool) but on exactly the same voxel centres is re-indexed without interpolation.
    """
    from nenscope.dicom.nifti import read_nifti  # nibabel: only when a NIfTI mask is given

    image = read_nifti(path)
    values = _onto_reference_grid(image, reference)
    if values is None:
        raise GeometryError(
            f"{path}: NIfTI mask grid (shape {image.shape}, spacing "
            f"{_fmt(image.spacing_mm)} mm, origin {_fmt(image.origin_mm)} mm LPS) does not match "
            f"the image (shape {reference.shape}, spacing {_fmt(reference.spacing_mm)} mm, "
            f"origin {_fmt(reference.origin_mm)} mm). Resample the mask onto the image first."
        )
    if not np.all(np.isfinite(values)) or not np.array_equal(values, np.round(values)):
        raise DicomImportError(
            f"{path}: mask values must be integers (0 = background), found fractional or "
            "non-finite values; threshold a probability map before using it as a mask."
        )
    labels = [int(v) for v in distinct(values) if v != 0]  # finite: checked above
    if labels == [1] or not labels:
        return {"mask": values == 1}
    return {f"label_{n}": values == n for n in labels}


def _onto_reference_grid(
    image: ImageVolume, reference: ImageVolume
) -> npt.NDArray[np.generic] | None:
    """Re-index ``image`` onto ``reference`` when both grids have the same voxel centres.

    Returns the array in the reference's ``(z, y, x)`` order, or ``None`` when the grids
    differ by more than an axis permutation or flip (within :data:`MASK_GRID_ATOL_MM`).
    """
    # index_image = M · index_reference; exact re-indexing needs M to be a signed permutation
    # with integer translation.
    m = np.linalg.inv(image.affine) @ reference.affine
    rot, shift = m[:3, :3], m[:3, 3]
    tol = MASK_GRID_ATOL_MM / max(max(image.spacing_mm), max(reference.spacing_mm))
    if not np.allclose(rot, np.round(rot), atol=tol) or not np.allclose(
        shift, np.round(shift), atol=tol
    ):
        return None
    rot_int, shift_int = np.round(rot).astype(int), np.round(shift).astype(int)
    if sorted(np.abs(rot_int).sum(axis=0)) != [1, 1, 1] or sorted(np.abs(rot_int).sum(axis=1)) != [
        1,
        1,
        1,
    ]:
        return None
    array = np.asarray(image.array)
    order = [0, 0, 0]
    for k in range(3):  # image axis k follows reference axis j with sign s
        j = int(np.flatnonzero(rot_int[k])[0])
        sign = int(rot_int[k, j])
        start = shift_int[k] if sign > 0 else image.shape[k] - 1 - shift_int[k]
        if start != 0 or image.shape[k] != reference.shape[j]:
            return None  # a crop or a pad, not a pure reorientation
        if sign < 0:
            array = np.flip(array, axis=k)
        order[j] = k
    return np.ascontiguousarray(array.transpose(order))


def _check_frame_of_reference(uid: str, reference: ImageVolume, *, path: Path, what: str) -> None:
    if not uid:
        warn(
            f"{path}: the {what} names no FrameOfReferenceUID; it is aligned with the image "
            "by geometry only.",
            DicomDeviationWarning,
            stacklevel=3,
        )
        return
    if reference.frame_of_reference_uid is None:
        warn(
            f"{path}: the reference image has no FrameOfReferenceUID, so the {what} "
            f"(FrameOfReferenceUID {uid or 'missing'}) is aligned by geometry only.",
            DicomDeviationWarning,
            stacklevel=3,
        )
        return
    if uid != reference.frame_of_reference_uid:
        raise GeometryError(
            f"{path}: the {what} is in frame of reference {uid or '(missing)'} but the image is "
            f"in {reference.frame_of_reference_uid} (FrameOfReferenceUID (0020,0052)). They "
            "were not acquired in one coordinate system; register the images first."
        )


def _grid_axes(reference: ImageVolume) -> tuple[npt.NDArray[np.float64], ...]:
    """Return the unit row (x) and column (y) directions and the spacing (z, y, x)."""
    spacing = np.asarray(reference.spacing_mm)
    row_dir = reference.affine[:3, 2] / spacing[2]
    col_dir = reference.affine[:3, 1] / spacing[1]
    return row_dir, col_dir, spacing


def read_seg_mask(
    ds: Dataset, reference: ImageVolume, *, path: Path
) -> dict[str, npt.NDArray[np.bool_]]:
    """Place the frames of a DICOM SEG (BINARY, FRACTIONAL or LABELMAP) on the reference grid.

    Each frame must have the reference's orientation, pixel spacing and size and lie on one of
    its slices; FRACTIONAL frames are thresholded at half of MaximumFractionalValue (0062,000E).
    """
    from nenscope.dicom._io import attribute_tag, decode_frames, get_str

    _check_frame_of_reference(
        get_str(ds, "FrameOfReferenceUID"), reference, path=path, what="segmentation"
    )
    labels = _segment_labels(ds, path=path)
    pixels = decode_frames(ds, path=path)
    if pixels.shape[1:] != reference.shape[1:]:
        raise GeometryError(
            f"{path}: segmentation frames are {pixels.shape[1]}×{pixels.shape[2]} pixels but "
            f"the image slices are {reference.shape[1]}×{reference.shape[2]}; the "
            "segmentation is on another grid. Resample it onto the image."
        )
    seg_type = get_str(ds, "SegmentationType", "BINARY").upper()
    shared = ds.get("SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if not per_frame or len(per_frame) != pixels.shape[0]:
        raise MissingAttributeError(
            f"{path}: {attribute_tag('PerFrameFunctionalGroupsSequence')} must have one item per "
            f"frame ({pixels.shape[0]}); cannot place the segmentation frames."
        )
    masks = {label: np.zeros(reference.shape, dtype=np.bool_) for label in labels.values()}
    threshold = 0.5 * float(ds.get("MaximumFractionalValue", 255) or 255)
    for i, item in enumerate(per_frame):
        z = _frame_slice(item, shared[0] if shared else None, reference, path=path, frame=i)
        frame = pixels[i]
        if seg_type == "LABELMAP":
            for number, label in labels.items():
                masks[label][z] |= frame == number
            continue
        ident = _group_value(
            item,
            shared[0] if shared else None,
            "SegmentIdentificationSequence",
            "ReferencedSegmentNumber",
        )
        if ident is None or int(ident) not in labels:
            raise DicomImportError(
                f"{path}: frame {i + 1} refers to segment {ident}, which SegmentSequence "
                "(0062,0002) does not define."
            )
        on = frame >= threshold if seg_type == "FRACTIONAL" else frame > 0
        masks[labels[int(ident)]][z] |= on
    return masks


def _segment_labels(ds: Dataset, *, path: Path) -> dict[int, str]:
    from nenscope.dicom._io import attribute_tag, get_int, get_str

    segments = ds.get("SegmentSequence")
    if not segments:
        raise MissingAttributeError(f"{path}: {attribute_tag('SegmentSequence')} is missing.")
    labels: dict[int, str] = {}
    for seg in segments:
        number = get_int(seg, "SegmentNumber", 0, path=path)
        label = get_str(seg, "SegmentLabel", f"segment_{number}")
        if label in labels.values():
            label = f"{label}_{number}"
        labels[number] = label
    return labels


def _group_macro(item: Dataset, shared: Dataset | None, group: str, keyword: str) -> Any:
    """Return the functional-group macro item holding ``keyword`` (per-frame, else shared)."""
    for source in (item, shared):
        if source is not None and group in source and source[group].value:
            macro = source[group].value[0]
            if keyword in macro:
                return macro
    return None


def _group_value(item: Dataset, shared: Dataset | None, group: str, keyword: str) -> Any:
    """Return ``keyword`` from the per-frame ``group`` macro, falling back to the shared one."""
    macro = _group_macro(item, shared, group, keyword)
    return None if macro is None else macro.get(keyword)


def _frame_slice(
    item: Dataset, shared: Dataset | None, reference: ImageVolume, *, path: Path, frame: int
) -> int:
    """Return the reference slice on which a SEG frame lies; refuse any mismatch."""
    from nenscope.dicom._io import attribute_tag, get_floats

    where = f"{path} frame {frame + 1}"
    wanted = (
        ("PlaneOrientationSequence", "ImageOrientationPatient", 6),
        ("PlanePositionSequence", "ImagePositionPatient", 3),
        ("PixelMeasuresSequence", "PixelSpacing", 2),
    )
    values = []
    for group, keyword, count in wanted:
        macro = _group_macro(item, shared, group, keyword)
        if macro is None:
            raise MissingAttributeError(
                f"{where}: {attribute_tag(keyword)} is missing from {group}; cannot place the "
                "frame."
            )
        values.append(np.asarray(get_floats(macro, keyword, count, path=where)))
    iop_f, ipp, sp = values
    row_dir, col_dir, ref_spacing = _grid_axes(reference)
    if not (
        np.allclose(iop_f[:3], row_dir, atol=1e-4) and np.allclose(iop_f[3:], col_dir, atol=1e-4)
    ) or not np.allclose(sp, ref_spacing[1:], atol=1e-3):
        raise GeometryError(
            f"{where}: orientation {iop_f.tolist()} / pixel spacing {sp.tolist()} differ from "
            f"the image ({np.r_[row_dir, col_dir].round(5).tolist()} / "
            f"{ref_spacing[1:].round(5).tolist()}). Resample the segmentation onto the image."
        )
    index = reference.lps_to_index([ipp])[0]
    rounded = np.round(index)
    off_mm = np.abs(index - rounded) * np.asarray(reference.spacing_mm)
    z = int(rounded[0])
    if np.any(off_mm > MASK_GRID_ATOL_MM) or rounded[1] != 0 or rounded[2] != 0:
        raise GeometryError(
            f"{where}: ImagePositionPatient {ipp.tolist()} is not the first voxel of an "
            f"image slice (fractional index {index.round(3).tolist()}); the segmentation is on "
            "another grid. Resample it onto the image."
        )
    if not 0 <= z < reference.shape[0]:
        raise GeometryError(f"{where}: lies outside the image (slice index {z}).")
    return z


def read_rtstruct_mask(
    ds: Dataset, reference: ImageVolume, *, path: Path
) -> dict[str, npt.NDArray[np.bool_]]:
    """Rasterise the CLOSED_PLANAR contours of every ROI of an RTSTRUCT onto the reference.

    Returns one mask per ROIName (duplicates get ``_<ROINumber>``); ROIs without any closed
    contour on the image are returned empty and reported by a warning.

    Warns
    -----
    DicomDeviationWarning
        Contours outside the volume, off the slice centres or not closed planar were dropped
        or snapped to a slice (the message counts them).
    """
    from nenscope.dicom._io import get_float_array, get_int, get_str

    rois = _roi_names_and_frames(ds, path=path)
    frames = {uid for _, uid in rois.values() if uid}
    if not frames:
        # Fall back to the structure set's own list of frames of reference (PS3.3 C.8.8.5).
        frames = {
            get_str(item, "FrameOfReferenceUID")
            for item in ds.get("ReferencedFrameOfReferenceSequence") or []
            if get_str(item, "FrameOfReferenceUID")
        }
    for uid in sorted(frames) or [""]:
        _check_frame_of_reference(uid, reference, path=path, what="structure set")
    contours: dict[int, list[npt.NDArray[np.float64]]] = defaultdict(list)
    notes: dict[int, list[str]] = defaultdict(list)
    for roi_contour in ds.get("ROIContourSequence") or []:
        number = get_int(roi_contour, "ReferencedROINumber", -1, path=path)
        for item in roi_contour.get("ContourSequence") or []:
            kind = get_str(item, "ContourGeometricType", "CLOSED_PLANAR").upper()
            if kind != "CLOSED_PLANAR":
                notes[number].append(f"{kind} contour ignored")
                continue
            data = get_float_array(item, "ContourData", path=path)
            if data.size < 9 or data.size % 3:
                notes[number].append(f"contour with {data.size} ContourData values ignored")
                continue
            contours[number].append(data.reshape(-1, 3))
    masks: dict[str, npt.NDArray[np.bool_]] = {}
    for number, (name, _) in rois.items():
        mask, dropped = _rasterise(contours.get(number, []), reference)
        masks[name] = mask
        issues = notes[number] + dropped
        if issues or not mask.any():
            summary = "; ".join(_count(issues)) or "no contour on this image"
            warn(f"{path}: ROI '{name}': {summary}.", DicomDeviationWarning, stacklevel=2)
    return masks


def _roi_names_and_frames(ds: Dataset, *, path: Path) -> dict[int, tuple[str, str]]:
    from nenscope.dicom._io import attribute_tag, get_int, get_str

    rois = ds.get("StructureSetROISequence")
    if not rois:
        raise MissingAttributeError(
            f"{path}: {attribute_tag('StructureSetROISequence')} is missing; the RTSTRUCT "
            "defines no ROI."
        )
    result: dict[int, tuple[str, str]] = {}
    names: set[str] = set()
    for roi in rois:
        number = get_int(roi, "ROINumber", -1, path=path)
        name = get_str(roi, "ROIName", f"roi_{number}")
        if name in names:
            name = f"{name}_{number}"
        names.add(name)
        result[number] = (name, get_str(roi, "ReferencedFrameOfReferenceUID"))
    return result


def _count(issues: Sequence[str]) -> list[str]:
    counts: dict[str, int] = defaultdict(int)
    for issue in issues:
        counts[issue] += 1
    return [f"{n} × {issue}" if n > 1 else issue for issue, n in counts.items()]


def _rasterise(
    contours: Sequence[npt.NDArray[np.float64]], reference: ImageVolume
) -> tuple[npt.NDArray[np.bool_], list[str]]:
    """Fill contours (LPS points, shape (n, 3)) on the reference grid by the even-odd rule.

    Contours are grouped by plane. Each image slice takes the contours of the nearest plane
    within half a slice; contours of different planes are never combined, so contours drawn
    on a finer grid (a CT structure set on a PET) do not cancel each other. Slices with no
    plane within half a slice stay empty (contours drawn on a coarser grid): nothing is
    interpolated, and the returned notes say so.
    """
    from skimage.draw import polygon2mask

    mask = np.zeros(reference.shape, dtype=np.bool_)
    notes: list[str] = []
    planes: dict[float, list[npt.NDArray[np.float64]]] = defaultdict(list)
    for points in contours:
        index = reference.lps_to_index(points)
        if np.ptp(index[:, 0]) > 2 * CONTOUR_PLANE_ATOL:
            notes.append("contour not parallel to the image slices dropped")
            continue
        planes[round(float(np.mean(index[:, 0])), 3)].append(index[:, 1:3])
    if not planes:
        return mask, notes
    levels = np.array(sorted(planes))
    used: set[float] = set()
    for z in range(reference.shape[0]):
        nearest = int(np.argmin(np.abs(levels - z)))
        distance = abs(float(levels[nearest]) - z)
        if distance > 0.5 + 1e-6:
            if levels[0] < z < levels[-1]:
                notes.append("slice between contour planes left empty (coarser contour grid)")
            continue
        level = float(levels[nearest])
        used.add(level)
        if distance > CONTOUR_PLANE_ATOL:
            notes.append("slice filled from the nearest contour plane (off the slice centre)")
        for polygon in planes[level]:
            mask[z] ^= polygon2mask(reference.shape[1:], polygon)  # type: ignore[no-untyped-call]  # skimage is unannotated
    for level in set(planes) - used:
        outside = not -0.5 <= level <= reference.shape[0] - 0.5
        reason = (
            "contour outside the image volume dropped"
            if outside
            else "contour between image slices not used (finer contour grid)"
        )
        notes.extend([reason] * len(planes[level]))
    return mask, notes


def _fmt(values: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"
