"""Synthetic PET/CT study with known ground truth, written as real DICOM.

:func:`write_phantom_study` writes ``OUT/CT/*.dcm`` (CT Image Storage) and ``OUT/PET/*.dcm``
(PET Image Storage) of one study in one frame of reference, ``OUT/truth.json`` with the ground
truth, and ``OUT/labels_pet.nii.gz`` with the PET-grid label map. The anatomy
and uptake model is :mod:`nenscope.quantification.phantom_model`; :class:`PhantomTruth` rebuilds
the label map on any grid with :meth:`PhantomTruth.label_map`.

PET pixel values (Units BQML) are ``SUV × A_ref / W`` with ``A_ref`` the injected activity decayed
to the series start (DecayCorrection START) and ``W`` the weight in g, stored as int16 with a
RescaleSlope per slice (slopes differ from slice to slice, as GE scanners write). Without blur
and noise the slope is chosen so that every painted value is stored exactly
(:func:`nenscope.dicom._synthetic_dicom.exact_pet_slope`); otherwise the slice maximum maps to
about 32 000 (:func:`nenscope.dicom._synthetic_dicom.pet_slope`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.uid import generate_uid
from scipy import ndimage

from nenscope.core.errors import OptionError, WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.core.units import ML_PER_MM3, Unit
from nenscope.dicom._synthetic_dicom import (
    INT16_MAX,
    BedTiming,
    PetDose,
    PetSlice,
    PetUnits,
    SeriesContext,
    Vendor,
    ct_dataset,
    exact_pet_slope,
    pet_dataset,
    pet_slope,
)
from nenscope.dicom._synthetic_settings import (
    PHILIPS_ACTIVITY_FACTOR_BQML_PER_COUNT,
    GridSpec,
    PhantomSettings,
    PhantomSize,
    grid_spec,
    lesion_from_record,
    read_lesion_file,
    settings_from_dict,
    settings_to_dict,
)
from nenscope.dicom.nifti import write_nifti
from nenscope.quantification.phantom_model import (
    TRACERS,
    PhantomModel,
    Region,
    RegionKind,
    Shape,
    add_pet_noise,
    blur_image,
    build_phantom_model,
)

__all__ = [
    "CT_HU_OFFSET",
    "TRUTH_FORMAT_VERSION",
    "GridSpec",
    "LesionTruth",
    "OrganTruth",
    "PetUnits",
    "PhantomSettings",
    "PhantomSize",
    "PhantomTruth",
    "Vendor",
    "grid_spec",
    "lesion_from_record",
    "read_lesion_file",
    "read_phantom_truth",
    "settings_from_dict",
    "write_phantom_study",
]

CT_HU_OFFSET = 1024
"""Stored CT value = HU + 1024 (RescaleIntercept -1024)."""

TRUTH_FORMAT_VERSION = 1
"""Version of the ``truth.json`` layout."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrganTruth:
    """Ground truth of one organ or tissue region on the PET grid.

    ``point_mm`` is the LPS centre of the voxel deepest inside the region (largest distance to
    its border), a safe seed for reference-region tests. ``suv_mean`` is the painted uptake;
    ``suv_mean_written`` the mean over the region's voxels of the written image (after blur and
    noise, before int16 storage).
    """

    name: str
    label: int
    suv_mean: float
    suv_mean_written: float
    hu: float
    voxels: int
    volume_ml: float
    point_mm: tuple[float, float, float]
    shape: Shape
    kind: RegionKind


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionTruth:
    """Ground truth of one lesion.

    ``volume_ml`` counts PET voxels whose centre lies in the sphere; ``suvmax``/``suvmean`` are
    the painted uptake before blur and noise; ``suvmax_written`` and ``suvmean_written`` are the
    maximum and mean over the same voxels of the written image (after blur and noise, before
    int16 storage): their ratio to the painted value is the recovery coefficient.
    """

    lesion_id: str
    label: int
    site: str
    centre_mm: tuple[float, float, float]
    diameter_mm: float
    volume_ml: float
    volume_nominal_ml: float
    voxels: int
    suvmax: float
    suvmean: float
    suvmax_written: float
    suvmean_written: float
    hu: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PhantomTruth:
    """What a phantom study contains: settings, acquisition facts, organs, lesions, UIDs."""

    settings: PhantomSettings
    model: PhantomModel
    grid: GridSpec
    organs: tuple[OrganTruth, ...]
    lesions: tuple[LesionTruth, ...]
    study_instance_uid: str
    frame_of_reference_uid: str
    pet_series_instance_uid: str
    ct_series_instance_uid: str
    n_beds: int

    def label_map(self, reference: ImageVolume) -> npt.NDArray[np.uint16]:
        """Label map of the phantom on the grid of ``reference`` (uint16, ``(z, y, x)``).

        Label values are those of :attr:`label_names`; 0 is outside the body.
        """
        return self.model.rasterise(reference.affine, reference.shape)

    @property
    def label_names(self) -> dict[int, str]:
        """Label value → region name (organs, tissues and lesion ids)."""
        return self.model.label_names

    def organ(self, name: str) -> OrganTruth:
        """Return the organ called ``name``."""
        for o in self.organs:
            if o.name == name:
                return o
        raise OptionError(f"No organ '{name}' in this phantom ({[o.name for o in self.organs]}).")

    def lesion(self, lesion_id: str) -> LesionTruth:
        """Return the lesion with id ``lesion_id``."""
        for les in self.lesions:
            if les.lesion_id == lesion_id:
                return les
        raise OptionError(f"No lesion '{lesion_id}' ({[x.lesion_id for x in self.lesions]}).")

    def to_json_dict(self) -> dict[str, Any]:
        """Return the truth as plain JSON types (what ``truth.json`` holds)."""
        s = self.settings
        info = TRACERS[s.tracer_enum]
        return {
            "format_version": TRUTH_FORMAT_VERSION,
            "generator": "nenscope.dicom.synthetic.write_phantom_study",
            "settings": settings_to_dict(s),
            "acquisition": {
                "tracer": s.tracer,
                "radiopharmaceutical": info.radiopharmaceutical,
                "radionuclide": info.radionuclide,
                "half_life_s": info.half_life_s,
                "injected_activity_bq": s.injected_bq,
                "injection_datetime": s.injection_datetime.isoformat(),
                "reference_datetime": s.series_datetime.isoformat(),
                "reference_activity_bq": s.reference_activity_bq,
                "bqml_per_suv": s.bqml_per_suv,
                "suv_bw_factor_g_per_bq": 1.0 / s.bqml_per_suv,
                "weight_kg": s.weight_kg,
                "height_cm": s.height_cm,
                "sex": s.sex,
                "vendor": s.vendor,
                "units": s.pet_units,
                "decay_correction": "START",
                "n_beds": self.n_beds,
                "beds": _beds_json(self.settings, self.grid),
            },
            "uids": {
                "study_instance_uid": self.study_instance_uid,
                "frame_of_reference_uid": self.frame_of_reference_uid,
                "pet_series_instance_uid": self.pet_series_instance_uid,
                "ct_series_instance_uid": self.ct_series_instance_uid,
            },
            "grid": {
                "pet_affine": self.grid.pet_affine.tolist(),
                "pet_shape": list(self.grid.pet_shape),
                "ct_affine": self.grid.ct_affine.tolist(),
                "ct_shape": list(self.grid.ct_shape),
            },
            "labels": {str(k): v for k, v in self.label_names.items()},
            "organs": [_organ_dict(o) for o in self.organs],
            "lesions": [_lesion_dict(x) for x in self.lesions],
            "regions": [_region_dict(r) for r in self.model.regions],
        }


def _beds_json(settings: PhantomSettings, grid: GridSpec) -> list[dict[str, Any]]:
    """Bed positions (feet first): start, duration, decay factor and z range of their slices."""
    beds, timings = _bed_of_slices(settings, grid)
    z = grid.z_min_mm + np.arange(grid.n_slices) * grid.slice_mm
    return [
        {
            "index": b,
            "start": t.start.isoformat(),
            "offset_s": t.offset_s,
            "duration_s": t.duration_s,
            "decay_factor": t.decay_factor,
            "z_min_mm": float(z[beds == b].min()),
            "z_max_mm": float(z[beds == b].max()),
        }
        for b, t in enumerate(timings)
    ]


def _shape_dict(shape: Shape) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": shape.kind.value,
        "centre_mm": list(shape.centre_mm),
        "radii_mm": list(shape.radii_mm),
    }
    if shape.path_mm:
        out["path_mm"] = [list(p) for p in shape.path_mm]
    return out


def _region_dict(r: Region) -> dict[str, Any]:
    return {
        "name": r.name,
        "kind": r.kind.value,
        "shape": _shape_dict(r.shape),
        "hu": r.hu,
        "suv": r.suv,
        "site": r.site,
    }


def _organ_dict(o: OrganTruth) -> dict[str, Any]:
    return {
        "name": o.name,
        "label": o.label,
        "kind": o.kind.value,
        "suv_mean": o.suv_mean,
        "suv_mean_written": o.suv_mean_written,
        "hu": o.hu,
        "voxels": o.voxels,
        "volume_ml": o.volume_ml,
        "point_mm": list(o.point_mm),
        "mask": {**_shape_dict(o.shape), "note": "voxel centres inside, later regions win"},
    }


def _lesion_dict(x: LesionTruth) -> dict[str, Any]:
    return {
        "id": x.lesion_id,
        "label": x.label,
        "organ": x.site,
        "centre_mm": list(x.centre_mm),
        "diameter_mm": x.diameter_mm,
        "volume_ml": x.volume_ml,
        "volume_nominal_ml": x.volume_nominal_ml,
        "voxels": x.voxels,
        "suvmax": x.suvmax,
        "suvmean": x.suvmean,
        "suvmax_written": x.suvmax_written,
        "suvmean_written": x.suvmean_written,
        "hu": x.hu,
    }


def read_phantom_truth(path: Path) -> PhantomTruth:
    """Read ``truth.json`` written by :func:`write_phantom_study` and rebuild the truth.

    The label-map model and the organ/lesion statistics are recomputed from the stored settings
    (deterministic), so :meth:`PhantomTruth.label_map` works on the result.

    Raises
    ------
    OptionError
        If the file is missing, not JSON, or not a phantom truth of this format version.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise OptionError(f"Cannot read phantom truth {path}: {err}.") from err
    if not isinstance(data, dict) or data.get("format_version") != TRUTH_FORMAT_VERSION:
        raise OptionError(
            f"{path} is not a nenscope phantom truth of format version {TRUTH_FORMAT_VERSION}."
        )
    settings = settings_from_dict(data["settings"])
    truth = _compute_truth(settings, _study_uids(settings))
    return truth


def _study_uids(settings: PhantomSettings) -> dict[str, str]:
    """Deterministic UIDs derived from the settings (same settings → same study)."""
    key = repr(settings_to_dict(settings))
    return {
        name: generate_uid(entropy_srcs=["nenscope-phantom", key, name])
        for name in ("study", "frame_of_reference", "pet_series", "ct_series")
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class _PetImage:
    labels: npt.NDArray[np.uint16]
    suv: npt.NDArray[np.float64]


def _pet_image(settings: PhantomSettings, model: PhantomModel, grid: GridSpec) -> _PetImage:
    labels = model.rasterise(grid.pet_affine, grid.pet_shape)
    suv = model.suv_table[labels]
    spacing = (grid.slice_mm, grid.pet_pixel_mm, grid.pet_pixel_mm)
    suv = blur_image(suv, spacing_mm=spacing, fwhm_mm=settings.fwhm_mm)
    if settings.noise > 0:
        rng = np.random.default_rng(settings.seed)
        suv = add_pet_noise(suv, noise=settings.noise, rng=rng)
    return _PetImage(labels=labels, suv=suv)


def _compute_truth(
    settings: PhantomSettings, uids: Mapping[str, str], pet: _PetImage | None = None
) -> PhantomTruth:
    grid = grid_spec(settings.size)
    model = build_phantom_model(
        settings.tracer_enum, settings.lesion_specs, anatomy=settings.anatomy
    )
    if pet is None:
        pet = _pet_image(settings, model, grid)
    voxel_ml = abs(float(np.linalg.det(grid.pet_affine[:3, :3]))) * ML_PER_MM3
    organs, lesions = _region_truths(model, pet, grid.pet_affine, voxel_ml)
    return PhantomTruth(
        settings=settings,
        model=model,
        grid=grid,
        organs=organs,
        lesions=lesions,
        study_instance_uid=uids["study"],
        frame_of_reference_uid=uids["frame_of_reference"],
        pet_series_instance_uid=uids["pet_series"],
        ct_series_instance_uid=uids["ct_series"],
        n_beds=len(_bed_of_slices(settings, grid)[1]),
    )


def _region_truths(
    model: PhantomModel, pet: _PetImage, affine: npt.NDArray[np.float64], voxel_ml: float
) -> tuple[tuple[OrganTruth, ...], tuple[LesionTruth, ...]]:
    counts = np.bincount(pet.labels.ravel(), minlength=len(model.regions) + 1)
    boxes: list[tuple[slice, ...] | None] = list(
        ndimage.find_objects(pet.labels.astype(np.int32), max_label=len(model.regions))
    )
    organs: list[OrganTruth] = []
    lesions: list[LesionTruth] = []
    for label, region in enumerate(model.regions, start=1):
        box = boxes[label - 1]
        if box is None:
            if region.kind is RegionKind.LESION:
                raise OptionError(
                    f"Lesion '{region.name}' covers no PET voxel centre on this grid: it lies "
                    "outside the field of view or is smaller than a voxel. Enlarge or move it."
                )
            continue
        mask = pet.labels[box] == label
        if region.kind is RegionKind.LESION:
            lesions.append(
                _lesion_truth(region, label, mask, pet.suv[box], int(counts[label]), voxel_ml)
            )
        else:
            organ = _organ_truth(region, label, mask, box, affine, int(counts[label]), voxel_ml)
            organs.append(replace(organ, suv_mean_written=float(pet.suv[box][mask].mean())))
    return tuple(organs), tuple(lesions)


def _lesion_truth(
    region: Region,
    label: int,
    mask: npt.NDArray[np.bool_],
    suv: npt.NDArray[np.float64],
    voxels: int,
    voxel_ml: float,
) -> LesionTruth:
    r = region.shape.radii_mm[0]
    return LesionTruth(
        lesion_id=region.name,
        label=label,
        site=region.site,
        centre_mm=region.shape.centre_mm,
        diameter_mm=2.0 * r,
        volume_ml=voxels * voxel_ml,
        volume_nominal_ml=region.shape.nominal_volume_ml,
        voxels=voxels,
        suvmax=region.suv,
        suvmean=region.suv,
        suvmax_written=float(suv[mask].max()),
        suvmean_written=float(suv[mask].mean()),
        hu=region.hu,
    )


def _organ_truth(
    region: Region,
    label: int,
    mask: npt.NDArray[np.bool_],
    box: tuple[slice, ...],
    affine: npt.NDArray[np.float64],
    voxels: int,
    voxel_ml: float,
) -> OrganTruth:
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    depth = ndimage.distance_transform_edt(np.pad(mask, 1), sampling=spacing)[1:-1, 1:-1, 1:-1]
    local = np.unravel_index(int(np.argmax(depth)), mask.shape)
    index = np.array([local[a] + (box[a].start or 0) for a in range(3)], dtype=np.float64)
    point = index @ affine[:3, :3].T + affine[:3, 3]
    return OrganTruth(
        name=region.name,
        label=label,
        suv_mean=region.suv,
        suv_mean_written=region.suv,
        hu=region.hu,
        voxels=voxels,
        volume_ml=voxels * voxel_ml,
        point_mm=(float(point[0]), float(point[1]), float(point[2])),
        shape=region.shape,
        kind=region.kind,
    )


def _bed_of_slices(
    settings: PhantomSettings, grid: GridSpec
) -> tuple[npt.NDArray[np.int64], list[BedTiming]]:
    """Bed index of every slice (feet first) and the timing of each bed."""
    offsets_mm = np.arange(grid.n_slices) * grid.slice_mm
    beds = np.floor(offsets_mm / settings.bed_length_mm).astype(np.int64)
    n_beds = int(beds.max()) + 1
    info = TRACERS[settings.tracer_enum]
    lam = math.log(2.0) / info.half_life_s
    duration = settings.bed_duration_s
    lt = lam * duration
    frame_average = lt / (1.0 - math.exp(-lt))
    mean_offset = math.log(frame_average) / lam
    timings = []
    for b in range(n_beds):
        offset_s = b * duration
        timings.append(
            BedTiming(
                start=settings.series_datetime + timedelta(seconds=offset_s),
                duration_s=duration,
                offset_s=offset_s,
                decay_factor=math.exp(lam * offset_s) * frame_average,
                mean_time_offset_s=mean_offset,
            )
        )
    return beds, timings


def _check_out_dir(out_dir: Path, *, overwrite: bool) -> None:
    targets = [out_dir / "CT", out_dir / "PET", out_dir / "truth.json"]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        raise OptionError(
            f"Phantom output {out_dir} already holds {existing}. Choose an empty folder or allow "
            "replacing the phantom there."
        )
    for sub in ("CT", "PET"):
        folder = out_dir / sub
        if folder.exists():
            for old in folder.glob("*.dcm"):
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)


def write_phantom_study(
    out_dir: Path, settings: PhantomSettings, *, overwrite: bool = False
) -> PhantomTruth:
    """Write the synthetic PET/CT study and its ground truth.

    Parameters
    ----------
    out_dir
        Folder to write; ``CT/``, ``PET/``, ``truth.json`` and ``labels_pet.nii.gz`` are
        created in it.
    settings
        What to write.
    overwrite
        Replace an earlier phantom in ``out_dir`` (its ``*.dcm`` files are deleted).

    Returns
    -------
    PhantomTruth
        The ground truth (also written as ``truth.json``).

    Raises
    ------
    OptionError
        If ``out_dir`` already holds a phantom and ``overwrite`` is false, or a lesion does not
        fit the grid.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OptionError(f"Phantom output {out_dir} exists and is not a folder.")
    _check_out_dir(out_dir, overwrite=overwrite)
    grid = grid_spec(settings.size)
    model = build_phantom_model(
        settings.tracer_enum, settings.lesion_specs, anatomy=settings.anatomy
    )
    pet = _pet_image(settings, model, grid)
    uids = _study_uids(settings)
    truth = _compute_truth(settings, uids, pet)
    try:
        _write_pet(out_dir / "PET", settings, grid, pet.suv, uids)
        _write_ct(out_dir / "CT", settings, grid, model, uids)
        write_nifti(
            ImageVolume(
                array=pet.labels, affine=grid.pet_affine, unit=Unit.LABEL,
                frame_of_reference_uid=uids["frame_of_reference"],
            ),
            out_dir / "labels_pet.nii.gz",
        )  # fmt: skip
        (out_dir / "truth.json").write_text(
            json.dumps(truth.to_json_dict(), indent=2) + "\n", encoding="utf-8"
        )
    except OSError as err:
        raise WorkbenchError(f"Cannot write the phantom study to {out_dir}: {err}.") from err
    return truth


def _context(
    settings: PhantomSettings,
    uids: Mapping[str, str],
    *,
    modality: str,
    matrix: int,
    pixel_mm: float,
    slice_mm: float,
) -> SeriesContext:
    is_pet = modality == "PT"
    series_time = settings.series_datetime - (timedelta(0) if is_pet else timedelta(minutes=5))
    return SeriesContext(
        vendor=Vendor(settings.vendor),
        study_uid=uids["study"],
        series_uid=uids["pet_series" if is_pet else "ct_series"],
        frame_of_reference_uid=uids["frame_of_reference"],
        series_number=3 if is_pet else 2,
        series_description="PET WB AC (synthetic)" if is_pet else "CT WB low dose (synthetic)",
        patient_id=f"NENSCOPE-PHANTOM-{settings.seed}",
        sex=settings.sex,
        weight_kg=settings.weight_kg,
        height_cm=settings.height_cm,
        study_datetime=settings.series_datetime - timedelta(minutes=10),
        series_datetime=series_time,
        rows=matrix,
        columns=matrix,
        pixel_spacing_mm=(pixel_mm, pixel_mm),
        slice_thickness_mm=slice_mm,
    )


def _position(affine: npt.NDArray[np.float64], k: int) -> tuple[float, float, float]:
    p = affine[:3, :3] @ np.array([float(k), 0.0, 0.0]) + affine[:3, 3]
    return (float(p[0]), float(p[1]), float(p[2]))


def _write_pet(
    folder: Path,
    settings: PhantomSettings,
    grid: GridSpec,
    suv: npt.NDArray[np.float64],
    uids: Mapping[str, str],
) -> None:
    ctx = _context(
        settings, uids, modality="PT", matrix=grid.pet_matrix,
        pixel_mm=grid.pet_pixel_mm, slice_mm=grid.slice_mm,
    )  # fmt: skip
    info = TRACERS[settings.tracer_enum]
    dose = PetDose(
        tracer=settings.tracer_enum,
        info=info,
        injected_bq=settings.injected_bq,
        injection=settings.injection_datetime,
    )
    beds, timings = _bed_of_slices(settings, grid)
    is_counts = settings.pet_units == PetUnits.CNTS
    philips = None
    if settings.vendor == Vendor.PHILIPS:
        acf = PHILIPS_ACTIVITY_FACTOR_BQML_PER_COUNT if is_counts else 1.0
        philips = (acf / settings.bqml_per_suv, acf)
    scale = settings.bqml_per_suv / (PHILIPS_ACTIVITY_FACTOR_BQML_PER_COUNT if is_counts else 1.0)
    piecewise = settings.fwhm_mm == 0 and settings.noise == 0  # painted values only
    n = grid.n_slices
    for k in range(n):
        values = suv[k] * scale
        slope = exact_pet_slope(suv[k], unit_per_suv=scale, k=k) if piecewise else None
        if slope is None:
            slope = pet_slope(float(values.max()), k=k)
        stored = np.clip(np.rint(values / slope), 0, INT16_MAX).astype(np.int16)
        instance = n - k  # instance 1 is the most superior slice, as scanners number them
        sl = PetSlice(
            sop_instance=generate_uid(entropy_srcs=[uids["pet_series"], str(k)]),
            instance=instance,
            image_index=instance,
            n_slices=n,
            position_mm=_position(grid.pet_affine, k),
            stored=stored,
            slope=slope,
            bed=timings[int(beds[k])],
            units=PetUnits(settings.pet_units),
            philips_factors=philips,
        )
        ds = pet_dataset(ctx, dose, sl)
        ds.save_as(folder / f"PT{instance:04d}.dcm", enforce_file_format=True)


def _write_ct(
    folder: Path,
    settings: PhantomSettings,
    grid: GridSpec,
    model: PhantomModel,
    uids: Mapping[str, str],
) -> None:
    """Write the CT slice by slice (memory: one slice of labels and HU at a time)."""
    ctx = _context(
        settings, uids, modality="CT", matrix=grid.ct_matrix,
        pixel_mm=grid.ct_pixel_mm, slice_mm=grid.slice_mm,
    )  # fmt: skip
    hu_table = model.hu_table
    rng = np.random.default_rng([settings.seed, 1])
    n = grid.n_slices
    for k in range(n):
        hu = hu_table[model.rasterise_slice(grid.ct_affine, grid.ct_shape, k)]
        if settings.ct_noise_hu > 0:
            hu = hu + settings.ct_noise_hu * rng.standard_normal(hu.shape)
        stored = np.clip(np.rint(hu) + CT_HU_OFFSET, 0, 4095).astype(np.uint16)
        instance = n - k
        ds = ct_dataset(
            ctx,
            sop_instance=generate_uid(entropy_srcs=[uids["ct_series"], str(k)]),
            instance=instance,
            position_mm=_position(grid.ct_affine, k),
            stored=stored,
        )
        ds.save_as(folder / f"CT{instance:04d}.dcm", enforce_file_format=True)
