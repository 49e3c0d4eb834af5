"""Settings of the synthetic PET/CT study: grid presets, :class:`PhantomSettings`, lesion files.

Split out of :mod:`nenscope.dicom.synthetic` (which re-exports every public name) to keep the
writer module small (STYLE 1.3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option, suggest
from nenscope.core.errors import OptionError
from nenscope.core.geometry import affine_from_spacing
from nenscope.core.safe_yaml import parse_json, parse_yaml, read_config_text
from nenscope.core.units import BQ_PER_MBQ, G_PER_KG, S_PER_MIN
from nenscope.dicom._synthetic_dicom import PetUnits, Vendor
from nenscope.quantification.phantom_model import (
    TRACERS,
    LesionSpec,
    PhantomAnatomy,
    Tracer,
    default_lesions,
    sphere_diameter_mm,
)

__all__ = [
    "PHILIPS_ACTIVITY_FACTOR_BQML_PER_COUNT",
    "GridSpec",
    "PhantomSettings",
    "PhantomSize",
    "grid_spec",
    "lesion_from_record",
    "read_lesion_file",
    "settings_from_dict",
    "settings_to_dict",
]

PHILIPS_ACTIVITY_FACTOR_BQML_PER_COUNT = 1.5
"""Illustrative Philips CNTS calibration: Bq/mL = counts × this factor, written as (7053,1009)."""


class PhantomSize(StrEnum):
    """Grid presets of the phantom."""

    SMALL = "small"
    DEFAULT = "default"
    CLINICAL = "clinical"


@dataclass(frozen=True, slots=True, kw_only=True)
class GridSpec:
    """PET and CT grids of one size preset (axial slices, same z positions for both).

    Parameters
    ----------
    pet_matrix, ct_matrix
        Rows = columns of the PET and CT images.
    pet_pixel_mm, ct_pixel_mm
        In-plane pixel size in mm.
    slice_mm
        Slice spacing (= thickness) in mm, shared by PET and CT.
    z_min_mm
        LPS z of the most inferior slice, mm.
    n_slices
        Number of slices of each series.
    """

    pet_matrix: int
    pet_pixel_mm: float
    ct_matrix: int
    ct_pixel_mm: float
    slice_mm: float
    z_min_mm: float
    n_slices: int

    def affine(self, *, matrix: int, pixel_mm: float) -> npt.NDArray[np.float64]:
        """Index→LPS affine of a ``matrix``² grid centred on x = y = 0, z rising with index."""
        half = (matrix - 1) / 2.0 * pixel_mm
        return affine_from_spacing(
            (self.slice_mm, pixel_mm, pixel_mm), origin_mm=(-half, -half, self.z_min_mm)
        )

    @property
    def pet_affine(self) -> npt.NDArray[np.float64]:
        """Affine of the PET grid."""
        return self.affine(matrix=self.pet_matrix, pixel_mm=self.pet_pixel_mm)

    @property
    def ct_affine(self) -> npt.NDArray[np.float64]:
        """Affine of the CT grid."""
        return self.affine(matrix=self.ct_matrix, pixel_mm=self.ct_pixel_mm)

    @property
    def pet_shape(self) -> tuple[int, int, int]:
        """PET grid shape ``(z, y, x)``."""
        return (self.n_slices, self.pet_matrix, self.pet_matrix)

    @property
    def ct_shape(self) -> tuple[int, int, int]:
        """CT grid shape ``(z, y, x)``."""
        return (self.n_slices, self.ct_matrix, self.ct_matrix)


_GRIDS: Mapping[PhantomSize, GridSpec] = {
    # small: abdomen and pelvis only (liver dome to hips), 4 mm everywhere; for tests.
    PhantomSize.SMALL: GridSpec(
        pet_matrix=100, pet_pixel_mm=4.0, ct_matrix=100, ct_pixel_mm=4.0,
        slice_mm=4.0, z_min_mm=-230.0, n_slices=96,
    ),
    # default: thighs to vertex, PET 4 mm, CT 2 x 2 x 4 mm.
    PhantomSize.DEFAULT: GridSpec(
        pet_matrix=128, pet_pixel_mm=4.0, ct_matrix=256, ct_pixel_mm=2.0,
        slice_mm=4.0, z_min_mm=-260.0, n_slices=210,
    ),
    # clinical: PET 200 x 200 x 600 at 3 x 3 x 1.5 mm, CT 512 x 512 x 600 (600 mm field of view).
    PhantomSize.CLINICAL: GridSpec(
        pet_matrix=200, pet_pixel_mm=3.0, ct_matrix=512, ct_pixel_mm=600.0 / 512.0,
        slice_mm=1.5, z_min_mm=-300.0, n_slices=600,
    ),
}  # fmt: skip


def grid_spec(size: PhantomSize | str) -> GridSpec:
    """Grid preset for ``size`` (``small``, ``default``, ``clinical``)."""
    return _GRIDS[parse_option(size, PhantomSize, what="phantom size")]


@dataclass(frozen=True, slots=True, kw_only=True)
class PhantomSettings:
    """Everything that defines a synthetic study; equal settings give identical files.

    Parameters
    ----------
    tracer
        ``ga68-dotatate``, ``fdg`` or ``cu64-dotatate``: sets the uptake table, the
        radionuclide and the default lesions.
    seed
        Seed of the noise generator and of the UIDs.
    vendor
        ``siemens``, ``ge`` or ``philips``: header conventions (module docstring of
        :mod:`nenscope.dicom._synthetic_dicom`).
    size
        Grid preset: ``small`` (abdomen, 4 mm, for tests), ``default`` (whole body, PET 4 mm,
        CT 2 × 2 × 4 mm), ``clinical`` (PET 200² × 600, CT 512² × 600).
    fwhm_mm
        Gaussian PET resolution (FWHM, mm); 0 = no blur.
    noise
        PET noise: coefficient of variation at SUV 1, SD = noise × sqrt(SUV); 0 = none.
    ct_noise_hu
        Standard deviation of Gaussian CT noise in HU; 0 = none.
    injected_mbq
        Injected activity at injection time in MBq; None = the tracer's typical activity.
    uptake_min
        Time from injection to the start of the PET series, min.
    weight_kg, height_cm, sex
        Patient weight (kg), height (cm) and sex (``M``, ``F`` or ``O``).
    bed_duration_s
        Acquisition time per bed, s.
    bed_length_mm
        Axial length covered per bed step, mm; beds are acquired feet first.
    pet_units
        ``BQML``, or ``CNTS`` (Philips only) with the Philips private scale factors.
    lesions
        Lesions to paint; None = the tracer's default lesions.
    anatomy
        ``basic`` (the original ellipsoid phantom) or ``detailed`` (adds a myocardial ring,
        brain cortex, renal pelves and ureters, bowel loops, muscles and an uncinate-process
        focus: :class:`~nenscope.quantification.phantom_model.PhantomAnatomy`). A unit-test
        tool either way, not evidence that a method holds on patients.
    injection_datetime
        Timezone-aware time of injection.
    """

    tracer: str = Tracer.GA68_DOTATATE
    seed: int = 0
    vendor: str = Vendor.SIEMENS
    size: str = PhantomSize.DEFAULT
    fwhm_mm: float = 0.0
    noise: float = 0.0
    ct_noise_hu: float = 0.0
    injected_mbq: float | None = None
    uptake_min: float = 60.0
    weight_kg: float = 75.0
    height_cm: float = 175.0
    sex: str = "M"
    bed_duration_s: float = 150.0
    bed_length_mm: float = 160.0
    pet_units: str = PetUnits.BQML
    lesions: tuple[LesionSpec, ...] | None = None
    anatomy: str = PhantomAnatomy.BASIC
    injection_datetime: datetime = field(
        default_factory=lambda: datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "tracer", parse_option(self.tracer, Tracer, what="tracer"))
        object.__setattr__(self, "vendor", parse_option(self.vendor, Vendor, what="vendor"))
        object.__setattr__(self, "size", parse_option(self.size, PhantomSize, what="size"))
        anatomy = parse_option(self.anatomy, PhantomAnatomy, what="phantom anatomy")
        object.__setattr__(self, "anatomy", anatomy)
        units = parse_option(self.pet_units, PetUnits, what="PET units")
        object.__setattr__(self, "pet_units", units)
        if units is PetUnits.CNTS and self.vendor is not Vendor.PHILIPS:
            raise OptionError(
                f"PET units CNTS need the Philips scale factors; vendor is '{self.vendor}'. "
                "Use --vendor philips or units BQML."
            )
        if self.sex not in ("M", "F", "O"):
            raise OptionError(f"Patient sex must be 'M', 'F' or 'O', got '{self.sex}'.")
        if self.injection_datetime.tzinfo is None:
            raise OptionError("injection_datetime must be timezone-aware (STYLE 3.5).")
        if isinstance(self.seed, bool) or self.seed < 0:
            raise OptionError(f"seed must be an integer >= 0, got {self.seed!r}.")
        self._check_positive()

    def _check_positive(self) -> None:
        checks = {
            "weight_kg": self.weight_kg,
            "height_cm": self.height_cm,
            "bed_duration_s": self.bed_duration_s,
            "bed_length_mm": self.bed_length_mm,
            "injected_mbq": 1.0 if self.injected_mbq is None else self.injected_mbq,
        }
        for name, value in checks.items():
            if not (math.isfinite(value) and value > 0):
                raise OptionError(f"Phantom setting {name} must be finite and > 0, got {value}.")
        for name, value in {
            "fwhm_mm": self.fwhm_mm,
            "noise": self.noise,
            "ct_noise_hu": self.ct_noise_hu,
            "uptake_min": self.uptake_min,
        }.items():
            if not (math.isfinite(value) and value >= 0):
                raise OptionError(f"Phantom setting {name} must be finite and >= 0, got {value}.")

    @property
    def tracer_enum(self) -> Tracer:
        """The tracer as an enum member."""
        return Tracer(self.tracer)

    @property
    def injected_bq(self) -> float:
        """Injected activity at injection time, Bq."""
        mbq = self.injected_mbq
        if mbq is None:
            mbq = TRACERS[self.tracer_enum].default_activity_mbq
        return mbq * BQ_PER_MBQ

    @property
    def lesion_specs(self) -> tuple[LesionSpec, ...]:
        """The lesions painted into the phantom."""
        return default_lesions(self.tracer_enum) if self.lesions is None else self.lesions

    @property
    def series_datetime(self) -> datetime:
        """Start of the PET series (first bed) = decay-correction reference time."""
        return self.injection_datetime + timedelta(seconds=self.uptake_min * S_PER_MIN)

    @property
    def reference_activity_bq(self) -> float:
        """Injected activity decayed to :attr:`series_datetime`, Bq."""
        half_life_s = TRACERS[self.tracer_enum].half_life_s
        elapsed_s = (self.series_datetime - self.injection_datetime).total_seconds()
        return float(self.injected_bq * 2.0 ** (-elapsed_s / half_life_s))

    @property
    def bqml_per_suv(self) -> float:
        """Activity concentration in Bq/mL of SUVbw 1 at the reference time."""
        return self.reference_activity_bq / (self.weight_kg * G_PER_KG)


def settings_to_dict(s: PhantomSettings) -> dict[str, Any]:
    """Return the settings as plain JSON types (the ``settings`` object of ``truth.json``).

    ``anatomy`` is written only when it is not ``basic``: a basic study's truth (and its UIDs,
    derived from these settings) stay what they were before the detailed anatomy existed.
    """
    extra = {} if s.anatomy == PhantomAnatomy.BASIC else {"anatomy": str(s.anatomy)}
    return extra | {
        "tracer": s.tracer,
        "seed": s.seed,
        "vendor": s.vendor,
        "size": s.size,
        "fwhm_mm": s.fwhm_mm,
        "noise": s.noise,
        "ct_noise_hu": s.ct_noise_hu,
        "injected_mbq": s.injected_bq / BQ_PER_MBQ,
        "uptake_min": s.uptake_min,
        "weight_kg": s.weight_kg,
        "height_cm": s.height_cm,
        "sex": s.sex,
        "bed_duration_s": s.bed_duration_s,
        "bed_length_mm": s.bed_length_mm,
        "pet_units": s.pet_units,
        "injection_datetime": s.injection_datetime.isoformat(),
        "lesions": [
            {
                "id": x.lesion_id,
                "centre_mm": list(x.centre_mm),
                "diameter_mm": x.diameter_mm,
                "suv": x.suv,
                "organ": x.site,
                "hu": x.hu,
            }
            for x in s.lesion_specs
        ],
    }


_LESION_KEYS = {"id", "centre_mm", "diameter_mm", "volume_ml", "suv", "organ", "hu"}


def lesion_from_record(record: Mapping[str, Any], *, where: str = "lesion") -> LesionSpec:
    """Build a :class:`LesionSpec` from a JSON/YAML mapping.

    Keys: ``id``, ``centre_mm`` ([x, y, z] LPS mm), exactly one of ``diameter_mm`` or
    ``volume_ml``, ``suv``, ``organ`` (a phantom region such as ``liver`` or ``spine``, or
    ``lymph-node`` / ``soft-tissue``) and optionally ``hu`` (default 40).

    Raises
    ------
    OptionError
        If a key is missing, unknown or has the wrong type; the message names ``where``.

    Examples
    --------
    >>> spec = lesion_from_record(
    ...     {"id": "l1", "centre_mm": [-75, -15, 40], "volume_ml": 1.0, "suv": 20,
    ...      "organ": "liver"})
    >>> round(spec.diameter_mm, 3)
    12.407
    """
    unknown = set(record) - _LESION_KEYS
    if unknown:
        raise OptionError(
            f"{where}: unknown key(s) {sorted(unknown)}. "
            + suggest(sorted(unknown)[0], sorted(_LESION_KEYS))
        )
    has_d, has_v = "diameter_mm" in record, "volume_ml" in record
    if has_d == has_v:
        raise OptionError(f"{where}: give exactly one of diameter_mm or volume_ml.")
    try:
        centre = [float(v) for v in record["centre_mm"]]
        if len(centre) != 3:
            raise ValueError(f"centre_mm needs 3 values [x, y, z], got {len(centre)}")
        diameter = (
            float(record["diameter_mm"])
            if has_d
            else sphere_diameter_mm(float(record["volume_ml"]))
        )
        suv, hu = float(record["suv"]), float(record.get("hu", 40.0))
        if not (math.isfinite(suv) and suv >= 0):
            raise ValueError(f"suv must be a finite SUV >= 0, got {suv}")
        if not (math.isfinite(hu) and -1024.0 <= hu <= 3071.0):
            raise ValueError(f"hu must lie in [-1024, 3071] (12-bit CT), got {hu}")
        return LesionSpec(
            lesion_id=str(record["id"]),
            centre_mm=(centre[0], centre[1], centre[2]),
            diameter_mm=diameter,
            suv=suv,
            site=str(record["organ"]),
            hu=hu,
        )
    except KeyError as err:
        raise OptionError(
            f"{where}: missing key {err}; needed: id, centre_mm, suv, organ."
        ) from err
    except (TypeError, ValueError) as err:
        raise OptionError(f"{where}: malformed value: {err}.") from err


def read_lesion_file(path: Path) -> tuple[LesionSpec, ...]:
    """Read lesions from a JSON or YAML file: a list of mappings (:func:`lesion_from_record`).

    Raises
    ------
    OptionError
        If the file cannot be read or parsed, is not a list, or a lesion is malformed.
    """
    path = Path(path)
    text = read_config_text(path, what="lesion file", error=OptionError)
    parse = parse_json if path.suffix.lower() == ".json" else parse_yaml
    data = parse(text, source=f"Lesion file {path}", error=OptionError)
    if isinstance(data, dict) and "lesions" in data:
        data = data["lesions"]
    if not isinstance(data, list) or not data:
        raise OptionError(
            f"{path}: expected a non-empty list of lesions (or a mapping with key 'lesions')."
        )
    return tuple(
        lesion_from_record(item, where=f"{path} lesion {i + 1}")
        if isinstance(item, dict)
        else _not_a_mapping(path, i)
        for i, item in enumerate(data)
    )


def _not_a_mapping(path: Path, i: int) -> LesionSpec:
    raise OptionError(f"{path}: lesion {i + 1} is not a mapping of keys to values.")


def settings_from_dict(data: Mapping[str, Any]) -> PhantomSettings:
    """Rebuild :class:`PhantomSettings` from the ``settings`` object of ``truth.json``."""
    try:
        lesions = tuple(lesion_from_record(x, where="truth.json lesion") for x in data["lesions"])
        return PhantomSettings(
            tracer=str(data["tracer"]),
            seed=int(data["seed"]),
            vendor=str(data["vendor"]),
            size=str(data["size"]),
            fwhm_mm=float(data["fwhm_mm"]),
            noise=float(data["noise"]),
            ct_noise_hu=float(data["ct_noise_hu"]),
            injected_mbq=float(data["injected_mbq"]),
            uptake_min=float(data["uptake_min"]),
            weight_kg=float(data["weight_kg"]),
            height_cm=float(data["height_cm"]),
            sex=str(data["sex"]),
            bed_duration_s=float(data["bed_duration_s"]),
            bed_length_mm=float(data["bed_length_mm"]),
            pet_units=str(data["pet_units"]),
            lesions=lesions,
            anatomy=str(data.get("anatomy", PhantomAnatomy.BASIC)),
            injection_datetime=datetime.fromisoformat(str(data["injection_datetime"])),
        )
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise OptionError(
            f"Phantom settings in truth.json are incomplete or malformed: {err}."
        ) from err
