"""Diffusion-weighted MR series: b-values, gradient directions, one volume per acquisition.

A DWI series holds several images of one region, one per b-value and gradient direction (and
repeat). :func:`read_dwi_series` reads such a series (one file per slice, enhanced multi-frame,
or Siemens mosaic), finds each slice's b-value and direction and stacks one
:class:`~nenscope.core.ImageVolume` per acquisition. :func:`compute_adc_maps` fits the apparent
diffusion coefficient (:mod:`nenscope.quantification.adc`) and returns the map and its mask.

Where the b-value comes from, in order (first found wins; a disagreeing later source is
recorded in the provenance):

1. DiffusionBValue (0018,9087), at top level or in MRDiffusionSequence (0018,9117) of
   enhanced objects (standard);
2. Philips private (2001,1003) "Philips Imaging DD 001" (FL, s/mm²);
3. Siemens private (0019,100C) "SIEMENS MR HEADER" (IS, s/mm²);
4. GE private (0043,1039) "GEMS_PARM_01", first value (IS); some GE software adds 10⁹ to it,
   which is removed (as dcm2niix and dicom2nifti do).

Private elements have no keyword; they are read through their private creator
(``Dataset.get_private_item``), never by a fixed tag.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from nenscope.core.errors import DicomImportError, GeometryError, MissingAttributeError
from nenscope.core.geometry import AFFINE_ATOL_MM, ImageVolume, affine_from_dicom
from nenscope.core.units import Unit
from nenscope.dicom._io import (
    attribute_tag,
    decode_frames,
    get_float,
    get_floats,
    get_str,
    read_dataset,
)
from nenscope.dicom._sorting import slice_geometry, stack_slices
from nenscope.dicom.identity import safe_description
from nenscope.dicom.series import list_files, split_frames
from nenscope.quantification.adc import AdcFit, compute_adc

__all__ = [
    "B_VALUE_ATOL_S_PER_MM2",
    "GE_B_VALUE_OFFSET",
    "AdcMaps",
    "DiffusionImage",
    "DiffusionSeries",
    "compute_adc_maps",
    "read_b_value",
    "read_dwi_series",
    "read_gradient_direction",
]

B_VALUE_ATOL_S_PER_MM2 = 1e-3
"""Two slices belong to one acquisition only if their b-values agree within this (s/mm²)."""

DIRECTION_ATOL = 1e-4
"""Two slices belong to one acquisition only if their gradient directions agree within this."""

GE_B_VALUE_OFFSET = 1_000_000_000
"""GE adds this to the b-value in (0043,1039) on some software versions."""

_MR_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.4": "MR Image Storage",
    "1.2.840.10008.5.1.4.1.1.4.1": "Enhanced MR Image Storage",
    "1.2.840.10008.5.1.4.1.1.4.4": "Legacy Converted Enhanced MR Image Storage",
}

_DERIVED_MAPS = {"ADC", "EADC", "FA", "TRACE_ADC", "CALC_BVALUE", "EXP"}
"""ImageType values of scanner-computed maps (not diffusion-weighted signal): skipped."""

_PHILIPS_CREATOR = "Philips Imaging DD 001"
_SIEMENS_CREATOR = "SIEMENS MR HEADER"
_GE_PARM_CREATOR = "GEMS_PARM_01"
_GE_ACQU_CREATOR = "GEMS_ACQU_01"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DiffusionImage:
    """One diffusion-weighted acquisition (one b-value, one direction, one repeat).

    Parameters
    ----------
    b_value_s_per_mm2
        Diffusion weighting in s/mm².
    direction
        Unit gradient direction as written in the header (patient coordinates for the
        standard attribute), or None for b = 0, trace/isotropic images and headers without one.
    b_value_source
        The attribute the b-value was read from.
    volume
        Signal, ``(z, y, x)`` float32 after rescale, :attr:`Unit.MR_SIGNAL`.
    files
        Files the slices came from.
    """

    b_value_s_per_mm2: float
    direction: tuple[float, float, float] | None
    b_value_source: str
    volume: ImageVolume
    files: tuple[Path, ...]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DiffusionSeries:
    """All acquisitions of one DWI series, on one grid, sorted by b-value.

    Parameters
    ----------
    images
        One entry per acquisition.
    series_instance_uid
        SeriesInstanceUID (0020,000E).
    manufacturer
        Manufacturer (0008,0070).
    provenance
        What the reader accepted or did (skipped files, mosaic unpacking, disagreeing sources).
    """

    images: tuple[DiffusionImage, ...]
    series_instance_uid: str
    manufacturer: str
    provenance: tuple[str, ...]

    @property
    def b_values_s_per_mm2(self) -> tuple[float, ...]:
        """b-value of each image, s/mm²."""
        return tuple(im.b_value_s_per_mm2 for im in self.images)

    @property
    def reference(self) -> ImageVolume:
        """The grid shared by every image (that of the first)."""
        return self.images[0].volume

    def signals(self) -> npt.NDArray[np.float64]:
        """Signal of every image, float64, shape ``(n_images, z, y, x)``."""
        return np.stack([np.asarray(im.volume.array, dtype=np.float64) for im in self.images])


def _private(ds: Dataset, group: int, offset: int, creator: str) -> Any:
    try:
        return ds.get_private_item(group, offset, creator).value
    except KeyError:
        return None


def _numbers(value: Any) -> list[float]:
    """Numbers of a DS/IS/FL/FD value, a multi-value, or raw bytes of an UN element."""
    if value is None:
        return []
    if isinstance(value, bytes):
        text = value.decode("ascii", errors="replace").strip("\x00 ")
        return [float(p) for p in text.split("\\") if p.strip()]
    if isinstance(value, str):
        return [float(p) for p in value.split("\\") if p.strip()]
    if isinstance(value, Sequence):
        return [float(v) for v in value]
    return [float(value)]


def _standard_b_value(ds: Dataset) -> float | None:
    if "DiffusionBValue" in ds and ds.DiffusionBValue not in (None, ""):
        return float(ds.DiffusionBValue)
    seq = ds.get("MRDiffusionSequence")
    if seq:
        item = seq[0]
        if "DiffusionBValue" in item and item.DiffusionBValue not in (None, ""):
            return float(item.DiffusionBValue)
    return None


def _ge_b_value(ds: Dataset) -> float | None:
    values = _numbers(_private(ds, 0x0043, 0x39, _GE_PARM_CREATOR))
    if not values:
        return None
    b = values[0]
    return b - GE_B_VALUE_OFFSET if b >= GE_B_VALUE_OFFSET else b


def read_b_value(ds: Dataset, *, path: Path | str) -> tuple[float, str, tuple[str, ...]]:
    """Return the b-value (s/mm²) of a slice, the attribute it came from and notes.

    Raises
    ------
    MissingAttributeError
        If no standard or known private b-value attribute is present.
    DicomImportError
        If the value is not a finite number >= 0.
    """
    sources: list[tuple[str, float | None]] = []
    try:
        sources = [
            (attribute_tag("DiffusionBValue"), _standard_b_value(ds)),
            (
                f"(2001,1003) '{_PHILIPS_CREATOR}'",
                next(iter(_numbers(_private(ds, 0x2001, 0x03, _PHILIPS_CREATOR))), None),
            ),
            (
                f"(0019,100C) '{_SIEMENS_CREATOR}'",
                next(iter(_numbers(_private(ds, 0x0019, 0x0C, _SIEMENS_CREATOR))), None),
            ),
            (f"(0043,1039) '{_GE_PARM_CREATOR}'", _ge_b_value(ds)),
        ]
    except (TypeError, ValueError) as err:
        raise DicomImportError(f"{path}: a b-value attribute is not a number: {err}.") from err
    found = [(name, v) for name, v in sources if v is not None]
    if not found:
        raise MissingAttributeError(
            f"{path}: no b-value found. Looked for {', '.join(n for n, _ in sources)}. "
            "Is this a diffusion-weighted series? Export it with the standard DiffusionBValue."
        )
    name, value = found[0]
    if not (math.isfinite(value) and value >= 0):
        raise DicomImportError(f"{path}: b-value from {name} must be >= 0, found {value}.")
    notes = tuple(
        f"{Path(str(path)).name}: b-value {other} from {oname} differs from {value} ({name}); "
        f"used {name}"
        for oname, other in found[1:]
        if abs(other - value) > B_VALUE_ATOL_S_PER_MM2
    )
    return value, name, notes


def read_gradient_direction(ds: Dataset) -> tuple[float, float, float] | None:
    """Return the diffusion gradient direction of a slice, or None (b = 0, trace, unknown).

    Sources: DiffusionGradientOrientation (0018,9089) (top level or inside
    MRDiffusionSequence), Siemens (0019,100E), GE (0019,10BB-10BD). A zero vector or an
    ISOTROPIC / NONE directionality gives None.
    """
    directionality = get_str(ds, "DiffusionDirectionality").upper()
    if not directionality:
        directionality = str(_private(ds, 0x0019, 0x0D, _SIEMENS_CREATOR) or "").upper()
    if directionality in ("ISOTROPIC", "NONE"):
        return None
    candidates = [
        _numbers(ds.get("DiffusionGradientOrientation")),
        _nested_orientation(ds),
        _numbers(_private(ds, 0x0019, 0x0E, _SIEMENS_CREATOR)),
        [
            v
            for offset in (0xBB, 0xBC, 0xBD)
            for v in _numbers(_private(ds, 0x0019, offset, _GE_ACQU_CREATOR))
        ],
    ]
    for values in candidates:
        if len(values) == 3 and all(math.isfinite(v) for v in values):
            norm = math.sqrt(sum(v * v for v in values))
            if norm > 1e-6:
                return (values[0] / norm, values[1] / norm, values[2] / norm)
    return None


def _nested_orientation(ds: Dataset) -> list[float]:
    """Return the orientation in DiffusionGradientDirectionSequence (0018,9076).

    It sits in MRDiffusionSequence, or at top level in frame headers flattened by split_frames.
    """
    holder = ds
    seq = ds.get("MRDiffusionSequence")
    if seq:
        holder = seq[0]
    inner = holder.get("DiffusionGradientDirectionSequence")
    if not inner:
        return []
    return _numbers(inner[0].get("DiffusionGradientOrientation"))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Slice:
    header: Dataset
    pixels: npt.NDArray[Any] | None
    path: Path
    b_value: float
    b_source: str
    direction: tuple[float, float, float] | None
    repeat_key: tuple[int, int]


def _key(sl: _Slice) -> tuple[float, tuple[float, float, float] | None]:
    b = round(sl.b_value / B_VALUE_ATOL_S_PER_MM2) * B_VALUE_ATOL_S_PER_MM2
    d = sl.direction
    if d is not None:
        d = (
            round(d[0] / DIRECTION_ATOL) * DIRECTION_ATOL,
            round(d[1] / DIRECTION_ATOL) * DIRECTION_ATOL,
            round(d[2] / DIRECTION_ATOL) * DIRECTION_ATOL,
        )
    return b, d


def _is_mosaic(ds: Dataset) -> bool:
    image_type = [str(v).upper() for v in (ds.get("ImageType") or [])]
    return "MOSAIC" in image_type


def _skip_reason(ds: Dataset) -> str | None:
    sop = str(ds.get("SOPClassUID", ""))
    if sop not in _MR_SOP_CLASSES:
        return f"not an MR image (SOPClassUID {sop or 'missing'})"
    image_type = {str(v).upper() for v in (ds.get("ImageType") or [])}
    derived = image_type & _DERIVED_MAPS
    if derived:
        return f"scanner-computed map (ImageType {sorted(derived)}), not diffusion-weighted signal"
    return None


def read_dwi_series(
    source: Path | Sequence[Path], *, series_instance_uid: str | None = None
) -> DiffusionSeries:
    """Read a diffusion-weighted MR series into one volume per acquisition.

    Parameters
    ----------
    source
        A folder holding one DWI series (searched recursively; gzip-compressed files are
        accepted), or its files. Non-MR objects (presentation states, private objects) and
        scanner-computed ADC/FA maps are skipped and recorded in the provenance.
    series_instance_uid
        Read only this series when the folder holds several (e.g. a whole study).

    Returns
    -------
    DiffusionSeries
        Images sorted by b-value, then direction, then repeat; all on one grid.

    Raises
    ------
    DicomImportError
        If no MR image is found, the files belong to several series and none is chosen, a
        b-value is missing, or the acquisitions do not share one grid.
    """
    files = list_files(source)
    provenance: list[str] = []
    found: dict[str, list[tuple[Dataset, Path]]] = defaultdict(list)
    for path in files:
        try:
            ds, notes = read_dataset(path, headers_only=False)
        except DicomImportError as err:
            provenance.append(f"{path.name}: skipped, {err}")
            continue
        provenance.extend(notes)
        reason = _skip_reason(ds)
        if reason is not None:
            provenance.append(f"{path.name}: skipped, {reason}")
            continue
        found[str(ds.get("SeriesInstanceUID", ""))].append((ds, path))
    uid = _choose_series(found, source, series_instance_uid, n_files=len(files))
    members = found[uid]
    slices = [sl for ds, path in members for sl in _slices_of(ds, path, provenance)]
    images = _group(slices, provenance)
    _check_same_grid(images)
    return DiffusionSeries(
        images=tuple(images),
        series_instance_uid=uid,
        manufacturer=get_str(members[0][0], "Manufacturer"),
        provenance=tuple(provenance),
    )


def _safe_description(ds: Dataset) -> str:
    # Messages reach consoles and logs: no patient name or ID, even inside a description.
    return safe_description(
        get_str(ds, "SeriesDescription"), get_str(ds, "PatientID"), get_str(ds, "PatientName")
    )


def _choose_series(
    found: dict[str, list[tuple[Dataset, Path]]],
    source: Path | Sequence[Path],
    wanted: str | None,
    *,
    n_files: int,
) -> str:
    """Return the SeriesInstanceUID to read: the only one, or the one asked for."""
    if not found:
        raise DicomImportError(
            f"No MR image found in {source}; expected the DICOM files of a DWI series "
            f"({n_files} file(s) looked at)."
        )
    listing = "; ".join(
        f"{uid} ({_safe_description(items[0][0]) or 'no description'}, {len(items)} file(s))"
        for uid, items in sorted(found.items())
    )
    if wanted is not None:
        if wanted not in found:
            raise DicomImportError(
                f"Series {wanted} is not among the MR series in {source}: {listing}."
            )
        return wanted
    if len(found) > 1:
        raise DicomImportError(
            f"{source} mixes {len(found)} series: {listing}. Pass the folder or the files of "
            "one DWI series, or choose one with --series-uid."
        )
    return next(iter(found))


def _slices_of(ds: Dataset, path: Path, provenance: list[str]) -> list[_Slice]:
    """One entry per 2-D slice (or one for a whole mosaic) with its diffusion facts."""
    if _is_mosaic(ds):
        headers: list[Dataset] = [ds]
        pixels: list[npt.NDArray[Any] | None] = [None]
    else:
        split_headers, split_pixels = split_frames(ds, path=path)
        headers, pixels = list(split_headers), list(split_pixels)
    out = []
    for i, header in enumerate(headers):
        b, source, notes = read_b_value(header, path=path)
        provenance.extend(notes)
        out.append(
            _Slice(
                header=header,
                pixels=pixels[i],
                path=path,
                b_value=b,
                b_source=source,
                direction=None if b <= B_VALUE_ATOL_S_PER_MM2 else read_gradient_direction(header),
                repeat_key=(
                    int(get_float(header, "AcquisitionNumber", 0.0, path=path)),
                    int(get_float(header, "InstanceNumber", 0.0, path=path)),
                ),
            )
        )
    return out


def _group(slices: list[_Slice], provenance: list[str]) -> list[DiffusionImage]:
    """Group slices into acquisitions (b, direction, repeat) and stack each."""
    groups: dict[tuple[float, tuple[float, float, float] | None], list[_Slice]] = defaultdict(list)
    for sl in slices:
        groups[_key(sl)].append(sl)
    images: list[DiffusionImage] = []
    for key in sorted(groups, key=lambda k: (k[0], k[1] or (-2.0, -2.0, -2.0))):
        for repeat in _split_repeats(groups[key]):
            images.append(_stack(repeat, provenance))
    return images


def _split_repeats(members: list[_Slice]) -> list[list[_Slice]]:
    """Split slices of one (b, direction) into repeats when positions occur more than once."""
    if _is_mosaic(members[0].header):
        # A mosaic file is a whole volume: each file is its own repeat.
        return [[sl] for sl in sorted(members, key=lambda s: s.repeat_key)]
    by_position: dict[tuple[float, float, float], list[_Slice]] = defaultdict(list)
    for sl in members:
        ipp = get_floats(sl.header, "ImagePositionPatient", 3, path=sl.path)
        by_position[(round(ipp[0], 3), round(ipp[1], 3), round(ipp[2], 3))].append(sl)
    n_repeats = max(len(v) for v in by_position.values())
    if any(len(v) != n_repeats for v in by_position.values()):
        raise DicomImportError(
            f"b = {members[0].b_value:g} s/mm²: slice positions occur a different number of "
            f"times ({sorted({len(v) for v in by_position.values()})}); the series is incomplete."
        )
    ordered = [sorted(v, key=lambda s: s.repeat_key) for v in by_position.values()]
    return [[group[r] for group in ordered] for r in range(n_repeats)]


def _stack(members: list[_Slice], provenance: list[str]) -> DiffusionImage:
    first = members[0]
    if _is_mosaic(first.header):
        volume, note = _unpack_mosaic(first.header, path=first.path)
        provenance.append(note)
    else:
        frames = [sl.pixels for sl in members]
        stacked = stack_slices(
            [sl.header for sl in members],
            names=[sl.path.name for sl in members],
            frames=None if any(f is None for f in frames) else frames,  # type: ignore[arg-type]
        )
        provenance.extend(stacked.provenance)
        volume = ImageVolume(
            array=stacked.array,
            affine=stacked.affine,
            unit=Unit.MR_SIGNAL,
            frame_of_reference_uid=get_str(first.header, "FrameOfReferenceUID") or None,
        )
    return DiffusionImage(
        b_value_s_per_mm2=first.b_value,
        direction=first.direction,
        b_value_source=first.b_source,
        volume=volume,
        files=tuple(dict.fromkeys(sl.path for sl in members)),
    )


def _unpack_mosaic(ds: Dataset, *, path: Path) -> tuple[ImageVolume, str]:
    """Cut a Siemens mosaic into its slices and place them (PS3.3 C.7.6.2.1.1 + Siemens rules).

    The mosaic's ImagePositionPatient is that of the top-left corner of the whole mosaic, not
    of the first tile; it is moved by half the size difference between mosaic and tile (as
    nibabel's MosaicWrapper does). The slices are taken to step along row × column cosine by
    SpacingBetweenSlices (else SliceThickness); the CSA SliceNormalVector is not read.
    """
    n = _numbers(_private(ds, 0x0019, 0x0A, _SIEMENS_CREATOR))
    if not n or n[0] < 1:
        raise MissingAttributeError(
            f"{path}: Siemens mosaic without NumberOfImagesInMosaic (0019,100A) "
            f"'{_SIEMENS_CREATOR}'; cannot cut it into slices."
        )
    n_slices = int(n[0])
    side = math.ceil(math.sqrt(n_slices))
    geo = slice_geometry(ds, path=path)
    if geo.rows % side or geo.columns % side:
        raise DicomImportError(
            f"{path}: mosaic {geo.rows}×{geo.columns} does not split into {side}×{side} tiles "
            f"for {n_slices} images."
        )
    tile_r, tile_c = geo.rows // side, geo.columns // side
    stored = decode_frames(ds, path=path)[0].astype(np.float64)
    slope = get_float(ds, "RescaleSlope", 1.0, path=path)
    intercept = get_float(ds, "RescaleIntercept", 0.0, path=path)
    values = stored * slope + intercept
    array = np.empty((n_slices, tile_r, tile_c), dtype=np.float32)
    for k in range(n_slices):
        r, c = divmod(k, side)
        array[k] = values[r * tile_r : (r + 1) * tile_r, c * tile_c : (c + 1) * tile_c]
    iop = np.asarray(geo.orientation, dtype=np.float64)
    row_cos, col_cos = iop[:3], iop[3:]
    row_mm, col_mm = geo.pixel_spacing_mm
    shift_rows, shift_cols = (geo.rows - tile_r) / 2.0, (geo.columns - tile_c) / 2.0
    first = (
        np.asarray(geo.position_mm) + col_cos * row_mm * shift_rows + row_cos * col_mm * shift_cols
    )
    spacing = get_float(ds, "SpacingBetweenSlices", 0.0, path=path) or get_float(
        ds, "SliceThickness", 0.0, path=path
    )
    if spacing <= 0:
        raise MissingAttributeError(
            f"{path}: mosaic needs SpacingBetweenSlices (0018,0088) or SliceThickness (0018,0050)."
        )
    normal = np.cross(row_cos, col_cos)
    affine = affine_from_dicom(
        tuple(iop.tolist()),
        tuple(first.tolist()),
        pixel_spacing_mm=(row_mm, col_mm),
        slice_vector_mm=tuple((normal * spacing).tolist()),
    )
    volume = ImageVolume(
        array=array,
        affine=affine,
        unit=Unit.MR_SIGNAL,
        frame_of_reference_uid=get_str(ds, "FrameOfReferenceUID") or None,
    )
    note = (
        f"{path.name}: Siemens mosaic {geo.rows}×{geo.columns} cut into {n_slices} slices of "
        f"{tile_r}×{tile_c}; slice order assumed along row × column cosine (CSA not read)"
    )
    return volume, note


def _check_same_grid(images: Sequence[DiffusionImage]) -> None:
    ref = images[0].volume
    for im in images[1:]:
        if not ref.same_grid(im.volume, atol_mm=AFFINE_ATOL_MM * 10):
            raise GeometryError(
                f"DWI image b = {im.b_value_s_per_mm2:g} s/mm² ({im.files[0].name}) is on another "
                f"grid than b = {images[0].b_value_s_per_mm2:g} ({images[0].files[0].name}): "
                f"shape {im.volume.shape} vs {ref.shape}. An ADC fit needs one grid."
            )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AdcMaps:
    """ADC map and its validity mask on the DWI grid.

    Parameters
    ----------
    adc
        Apparent diffusion coefficient in mm²/s (float64; 0 where undefined).
    mask
        1 where the fit is defined, 0 where it is not (uint8, :attr:`Unit.LABEL`).
    b_values_s_per_mm2
        b-values of the images used in the fit.
    fit
        The raw fit result (including S0 and the number of points per voxel).
    """

    adc: ImageVolume
    mask: ImageVolume
    b_values_s_per_mm2: tuple[float, ...]
    fit: AdcFit


def compute_adc_maps(series: DiffusionSeries, *, min_b_s_per_mm2: float = 0.0) -> AdcMaps:
    """Fit the mono-exponential ADC over all images of ``series`` with b >= ``min_b``.

    Every direction and repeat enters the log-linear least-squares fit as its own point, so
    several directions at one b-value are combined as their geometric mean (the trace).
    """
    fit = compute_adc(series.signals(), series.b_values_s_per_mm2, min_b_s_per_mm2=min_b_s_per_mm2)
    ref = series.reference
    used = tuple(b for b in series.b_values_s_per_mm2 if b >= min_b_s_per_mm2)
    return AdcMaps(
        adc=ref.with_array(fit.adc_mm2_per_s, unit=Unit.MM2_PER_S),
        mask=ref.with_array(fit.is_defined.astype(np.uint8), unit=Unit.LABEL),
        b_values_s_per_mm2=used,
        fit=fit,
    )
