"""SUV of a PET (or quantitative SPECT stored as PT) series: factors, provenance, SUV volumes.

:func:`compute_suv` implements ``shared/reference/suv-rules.md`` §4.2 on a
:class:`~nenscope.dicom.series.DicomSeries`; :func:`compute_suv_from_headers` does the same on
the per-slice header datasets alone (and an optional rescaled volume), so header extracts
without pixel data can be tested. The arithmetic lives in :mod:`nenscope.quantification.suv`
and :mod:`nenscope.quantification.bodysize`; this module reads and interprets the headers,
applies the user's overrides, refuses what it cannot compute and records every choice.

Factors (``suv_*_factor``) are in g/Bq (cm²/Bq for BSA) and multiply an activity
concentration in Bq/mL decay-corrected to the series' decay reference (the injection time for
DecayCorrection ADMIN and NONE). ``stored_to_bq_per_ml`` and ``stored_to_suv_bw`` give, per
slice, how the rescaled stored values become Bq/mL and SUVbw (counts, GML, CM2ML, NONE).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from nenscope.core.diagnostics import warn
from nenscope.core.enums import Normalisation, parse_option, suggest
from nenscope.core.errors import (
    DicomDeviationWarning,
    ImpossibleValueError,
    MissingAttributeError,
    NotComputableError,
    OptionError,
    UnitError,
    WorkbenchWarning,
)
from nenscope.core.geometry import ImageVolume
from nenscope.core.units import Unit
from nenscope.dicom._pet_header import PetHeader, read_pet_header
from nenscope.dicom._pet_inputs import (
    Body,
    Inputs,
    read_inputs,
)
from nenscope.dicom.series import DicomSeries
from nenscope.quantification.bodysize import LbmFormula
from nenscope.quantification.suv import (
    SUV_IMPLAUSIBLE_MAX_BELOW,
    SUV_IMPOSSIBLE_ABOVE,
    SuvRangeVerdict,
    suv_range_verdict,
)

__all__ = [
    "Normalisation",
    "SuvOverrides",
    "SuvResult",
    "compute_suv",
    "compute_suv_from_headers",
    "suv_volume",
]

_NON_QUANTITATIVE = {
    "PROPCNTS": "proportional to counts",
    "PROPCPS": "proportional to counts per second",
    "1CM": "linear attenuation",
    "NPREF": "not defined/normalised",
    "CPS": "counts per second (needs a dose calibration factor and voxel volume)",
    "MGMINML": "metabolic rate",
    "UMOLMINML": "metabolic rate",
    "MLMING": "perfusion",
    "MLG": "distribution volume",
    "PCNT": "percent",
}
"""Units (0054,1001) defined terms that are not an activity concentration or an SUV."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SuvOverrides:
    """Values the user supplies to replace or complete the header (all recorded).

    Parameters
    ----------
    weight_kg
        Patient weight in kg (``--weight-kg``), replaces PatientWeight (0010,1030).
    height_cm
        Patient height in cm (``--height-cm``), replaces PatientSize (0010,1020).
    injected_mbq
        Administered activity in MBq at the injection time (``--injected-mbq``), replaces
        RadionuclideTotalDose (0018,1074).
    injection_time
        Administration date and time (``--injection-time``), replaces
        RadiopharmaceuticalStartDateTime (0018,1078) / StartTime (0018,1072).
    sex
        ``M``, ``F`` or ``O`` (``--sex``), replaces PatientSex (0010,0040).
    """

    weight_kg: float | None = None
    height_cm: float | None = None
    injected_mbq: float | None = None
    injection_time: datetime | None = None
    sex: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SuvResult:
    """SUV factors of one series with everything used to obtain them.

    Per-slice tuples are in the volume's z order. ``provenance`` maps a topic (units, dose,
    reference_time, ...) to a sentence saying which value was used and why.
    """

    series_instance_uid: str
    units: str
    suv_type: str | None
    decay_correction: str
    radionuclide: str | None
    injected_activity_bq: float | None
    injection_datetime: datetime | None
    reference_datetime: datetime | None
    reference_method: str | None
    half_life_s: float | None
    weight_kg: float | None
    height_cm: float | None
    sex: str | None
    lbm_formula: str
    lbm_kg: float | None
    ibw_kg: float | None
    bsa_m2: float | None
    suv_bw_factor: float | None
    suv_lbm_factor: float | None
    suv_bsa_factor: float | None
    suv_ibw_factor: float | None
    stored_to_bq_per_ml: tuple[float, ...] | None
    stored_to_suv_bw: tuple[float, ...]
    suvmax_bw: float | None
    warnings: tuple[str, ...]
    provenance: dict[str, str] = field(default_factory=dict)

    def normaliser_ratio(self, normalisation: Normalisation) -> float:
        """SUVx / SUVbw for a normalisation (LBM/W, IBW/W, BSA[cm²]/W[g]).

        Raises
        ------
        NotComputableError
            If the normaliser is unknown (missing height or sex); the message says why.
        """
        if normalisation is Normalisation.BW:
            return 1.0
        value = {
            Normalisation.LBM: self.lbm_kg,
            Normalisation.IBW: self.ibw_kg,
            Normalisation.BSA: None if self.bsa_m2 is None else self.bsa_m2 * 10.0,
        }[normalisation]
        if value is None or self.weight_kg is None:
            why = self.provenance.get(normalisation.value, "height or sex unknown")
            raise NotComputableError(
                f"Cannot compute SUV{normalisation.value} for series "
                f"{self.series_instance_uid}: {why}"
            )
        return value / self.weight_kg

    def to_contract(self) -> dict[str, object]:
        """Return the ``nenscope suv --format json`` object (DESIGN.md contract plus extras)."""
        return {
            "series_instance_uid": self.series_instance_uid,
            "units": self.units,
            "decay_correction": self.decay_correction,
            "injected_activity_bq": self.injected_activity_bq,
            "injection_datetime": _iso(self.injection_datetime),
            "reference_datetime": _iso(self.reference_datetime),
            "half_life_s": self.half_life_s,
            "weight_kg": self.weight_kg,
            "suv_bw_factor": self.suv_bw_factor,
            "suv_lbm_factor": self.suv_lbm_factor,
            "suv_bsa_factor": self.suv_bsa_factor,
            "suvmax_bw": self.suvmax_bw,
            "warnings": list(self.warnings),
            "suv_ibw_factor": self.suv_ibw_factor,
            "suv_type": self.suv_type,
            "radionuclide": self.radionuclide,
            "height_cm": self.height_cm,
            "sex": self.sex,
            "lbm_formula": self.lbm_formula,
            "reference_method": self.reference_method,
            "value_conversion": {
                "stored_to_bq_per_ml": _compact(self.stored_to_bq_per_ml),
                "stored_to_suv_bw": _compact(self.stored_to_suv_bw),
                "how": self.provenance.get("conversion", ""),
            },
            "provenance": dict(self.provenance),
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _compact(values: tuple[float, ...] | None) -> float | list[float] | None:
    """One number when every slice has the same factor, else the per-slice list."""
    if values is None:
        return None
    if len(set(values)) == 1:
        return values[0]
    return list(values)


@dataclass(slots=True)
class _Log:
    """Warnings and provenance collected while one result is built."""

    warnings: list[tuple[str, type[WorkbenchWarning]]] = field(default_factory=list)
    provenance: dict[str, str] = field(default_factory=dict)

    def warn(self, message: str, category: type[WorkbenchWarning] = DicomDeviationWarning) -> None:
        self.warnings.append((message, category))


def compute_suv(
    series: DicomSeries,
    *,
    overrides: SuvOverrides | None = None,
    lbm_formula: LbmFormula | str = LbmFormula.JANMAHASATIAN,
) -> SuvResult:
    """SUV factors of a PET series read by :func:`~nenscope.dicom.series.read_series`.

    Parameters
    ----------
    series
        The series; its ``headers`` are in the volume's z order.
    overrides
        Values that replace or complete the header; each use is recorded in provenance.
    lbm_formula
        Lean-body-mass formula for ``suv_lbm_factor``: ``LBMJANMA`` (Janmahasatian, default,
        EANM 2015) or ``LBMJAMES128`` (James, PERCIST 1.0); also ``janmahasatian``/``james``.

    Returns
    -------
    SuvResult
        ``suvmax_bw`` is the maximum over the whole volume.

    Raises
    ------
    NotComputableError, UnitError, MissingAttributeError, DicomImportError
        When no correct SUVbw can be computed; the message names the attribute, what was
        found and the command-line override that fixes it.

    Warns
    -----
    DicomDeviationWarning, EstimatedValueWarning
        One per entry of ``SuvResult.warnings``.
    """
    return compute_suv_from_headers(
        series.headers,
        values=np.asarray(series.volume.array),
        overrides=overrides,
        lbm_formula=lbm_formula,
        label=f"series {series.series_instance_uid}",
    )


def compute_suv_from_headers(
    headers: Sequence[Dataset],
    *,
    values: npt.NDArray[Any] | None = None,
    overrides: SuvOverrides | None = None,
    lbm_formula: LbmFormula | str = LbmFormula.JANMAHASATIAN,
    label: str = "",
) -> SuvResult:
    """SUV factors from per-slice headers (and optionally the rescaled ``(z, y, x)`` values).

    See :func:`compute_suv`; ``values`` (after per-slice RescaleSlope, one slice per header)
    only serves ``suvmax_bw``, which is ``None`` without it.
    """
    formula = _parse_lbm_formula(lbm_formula)
    header = read_pet_header(headers, label=label)
    log = _Log()
    for note in header.notes:
        log.warn(note)
    units = _check_units(header, log)
    inputs = read_inputs(header, overrides or SuvOverrides(), log=log.warn, prov=log.provenance)
    body = inputs.body
    _body_normalisers(body, formula, header.label, log)
    to_bq, to_suv_bw, bw_factor = _conversion(header, units, inputs, log)
    if values is not None and values.shape[0] != len(header.slices):
        raise NotComputableError(
            f"{header.label}: {values.shape[0]} slices of values but {len(header.slices)} headers."
        )
    suvmax = None
    if values is not None:
        _check_rescale(header, log)
        suvmax, suvmin = _suv_extremes(values, to_suv_bw)
        _check_suv_range(header, units, suvmax, suvmin, log)
    ratio = {n: _ratio(body, n) for n in Normalisation}
    for message, category in log.warnings:
        warn(message, category, stacklevel=3)
    return SuvResult(
        series_instance_uid=str(header.values.get("SeriesInstanceUID") or ""),
        units=units,
        suv_type=inputs.suv_type,
        decay_correction=inputs.decay_correction.value,
        radionuclide=inputs.radionuclide,
        injected_activity_bq=inputs.dose_bq,
        injection_datetime=inputs.injection,
        reference_datetime=inputs.reference.when if inputs.reference else None,
        reference_method=inputs.reference.method.value if inputs.reference else None,
        half_life_s=inputs.half_life_s,
        weight_kg=body.weight_kg,
        height_cm=body.height_cm,
        sex=body.sex.value if body.sex else None,
        lbm_formula=formula.value,
        lbm_kg=body.lbm_kg,
        ibw_kg=body.ibw_kg,
        bsa_m2=body.bsa_m2,
        suv_bw_factor=bw_factor,
        suv_lbm_factor=_scaled(bw_factor, ratio[Normalisation.LBM]),
        suv_bsa_factor=_scaled(bw_factor, ratio[Normalisation.BSA]),
        suv_ibw_factor=_scaled(bw_factor, ratio[Normalisation.IBW]),
        stored_to_bq_per_ml=to_bq,
        stored_to_suv_bw=to_suv_bw,
        suvmax_bw=suvmax,
        warnings=tuple(message for message, _ in log.warnings),
        provenance=dict(log.provenance),
    )


_LBM_FORMULA_NAMES: dict[str, LbmFormula] = {
    "janmahasatian": LbmFormula.JANMAHASATIAN,
    "james": LbmFormula.JAMES,
    "morgan": LbmFormula.MORGAN,
}
"""The ``--lbm-formula`` option's own values; the DICOM SUVType terms are accepted too."""


def _parse_lbm_formula(value: LbmFormula | str) -> LbmFormula:
    """Parse an LBM formula by name (``james``) or DICOM SUVType term (``LBMJAMES128``).

    An unknown value is refused with the closest option name and the list of names (STYLE §8.4),
    not the DICOM terms a user of ``--lbm-formula`` never typed.
    """
    if isinstance(value, LbmFormula):
        return value
    text = str(value).strip()
    by_name = _LBM_FORMULA_NAMES.get(text.lower())
    if by_name is not None:
        return by_name
    by_code = {m.value.lower(): m for m in LbmFormula}.get(text.lower())
    if by_code is not None:
        return by_code
    names = list(_LBM_FORMULA_NAMES)
    codes = ", ".join(m.value for m in LbmFormula)
    raise OptionError(
        f"Unknown LBM formula '{text}'. {suggest(text.lower(), names)} "
        f"(The DICOM SUVType terms {codes} are accepted too.)"
    )


def _scaled(factor: float | None, ratio: float | None) -> float | None:
    return None if factor is None or ratio is None else factor * ratio


def _ratio(body: Body, normalisation: Normalisation) -> float | None:
    if body.weight_kg is None:
        return None
    value = {
        Normalisation.BW: body.weight_kg,
        Normalisation.LBM: body.lbm_kg,
        Normalisation.IBW: body.ibw_kg,
        Normalisation.BSA: None if body.bsa_m2 is None else body.bsa_m2 * 10.0,
    }[normalisation]
    return None if value is None else value / body.weight_kg


def _suv_extremes(
    values: npt.NDArray[Any], to_suv_bw: tuple[float, ...]
) -> tuple[float | None, float | None]:
    """SUVbw maximum and minimum over the finite values (``None`` if there are none)."""
    scale = np.asarray(to_suv_bw, dtype=np.float64)
    flat = np.asarray(values).reshape(len(scale), -1)
    if flat.shape[1] == 0:
        return None, None
    extremes: list[float | None] = []
    for reduce, pick in ((np.fmax, max), (np.fmin, min)):
        # Per-slice extreme in the stored dtype (no float64 copy of the volume); skips NaN.
        per_slice = reduce.reduce(flat, axis=1).astype(np.float64)
        for k in np.flatnonzero(~np.isfinite(per_slice)):
            # A slice holding +/-inf: its extreme finite value (no all-NaN warning).
            row = flat[k][np.isfinite(flat[k])]
            per_slice[k] = float(pick(row)) if row.size else np.nan
        finite = np.isfinite(per_slice)
        extremes.append(float(pick(per_slice[finite] * scale[finite])) if finite.any() else None)
    return extremes[0], extremes[1]


_RANGE_SUSPECTS = (
    "Units (0054,1001), RescaleSlope (0028,1053), RescaleIntercept (0028,1052), "
    "RadionuclideTotalDose (0018,1074) and PatientWeight (0010,1030)"
)


def _check_suv_range(
    header: PetHeader, units: str, suvmax: float | None, suvmin: float | None, log: _Log
) -> None:
    """Refuse a physiologically impossible SUV range; warn about an implausibly low one."""
    if suvmax is None or suvmin is None:
        raise NotComputableError(
            f"Cannot compute SUV for {header.label}: the series holds no finite pixel value."
        )
    verdict = suv_range_verdict(suvmax, suvmin)
    found = f"SUVbw from {suvmin:.4g} to {suvmax:.4g} g/mL (Units {units})"
    if verdict is SuvRangeVerdict.IMPOSSIBLE:
        raise ImpossibleValueError(
            f"Cannot compute SUV for {header.label}: {found}, outside any physiological range "
            f"(maximum above 0 and at most {SUV_IMPOSSIBLE_ABOVE:g}). One of {_RANGE_SUSPECTS} "
            "is wrong; check them against the acquisition record, then correct the header or "
            "pass --injected-mbq/--weight-kg."
        )
    if verdict is SuvRangeVerdict.IMPLAUSIBLY_LOW:
        log.warn(
            f"{header.label}: {found}: no voxel reaches SUV {SUV_IMPLAUSIBLE_MAX_BELOW:g}, "
            f"lower than any physiological uptake. Check {_RANGE_SUSPECTS}."
        )


def _check_rescale(header: PetHeader, log: _Log) -> None:
    """Refuse a missing or non-positive RescaleSlope; warn about a non-zero RescaleIntercept.

    PS3.3 C.8.9.4 (PET Image module): RescaleSlope (0028,1053) and RescaleIntercept
    (0028,1052) are Type 1, and the intercept shall be 0. Taking a missing slope as 1 turns
    GE int16 values (scaled to 32767 per slice) into SUV of tens of thousands.
    """
    modality = str(header.values.get("Modality") or "")
    slopes = [s.rescale_slope for s in header.slices]
    missing = [z for z, slope in enumerate(slopes) if slope is None]
    if missing and modality == "PT":
        raise MissingAttributeError(
            f"Cannot compute SUV for {header.label}: RescaleSlope (0028,1053) is missing on "
            f"{len(missing)} of {len(slopes)} slices (first: slice {missing[0]} in z order); "
            "it is required for PET images (PS3.3 C.8.9.4) and no value can be assumed. "
            "Correct the header."
        )
    if missing:
        log.warn(
            f"{header.label}: RescaleSlope (0028,1053) is missing on {len(missing)} of "
            f"{len(slopes)} slices of a Modality {modality or '(none)'} series; the stored "
            "values were used unscaled."
        )
    bad = [(z, slope) for z, slope in enumerate(slopes) if slope is not None and slope <= 0]
    if bad:
        z, slope = bad[0]
        raise ImpossibleValueError(
            f"Cannot compute SUV for {header.label}: RescaleSlope (0028,1053) is {slope:g} on "
            f"{len(bad)} slices (first: slice {z} in z order); a slope of 0 or below turns "
            "activity into nothing or negative values. Correct the header."
        )
    offset = [(z, s.rescale_intercept) for z, s in enumerate(header.slices) if s.rescale_intercept]
    if offset and modality == "PT":
        z, value = offset[0]
        log.warn(
            f"{header.label}: RescaleIntercept (0028,1052) is {value:g} on {len(offset)} of "
            f"{len(slopes)} slices (first: slice {z}); PET images shall have 0 (PS3.3 "
            "C.8.9.4.1.2). It was applied as stored; check the SUV."
        )


_QUANTITATIVE_UNITS = frozenset({"BQML", "CNTS", "GML", "CM2ML"})
"""Units (0054,1001) from which an SUV can be computed."""


def _check_units(header: PetHeader, log: _Log) -> str:
    """Return Units, upper case, if it is BQML, CNTS, GML or CM2ML; else refuse."""
    modality = str(header.values.get("Modality") or "")
    units = str(header.values.get("Units") or "").upper()
    if modality not in {"PT", "NM", ""} and units not in _QUANTITATIVE_UNITS:
        # A CT or MR series: say what it is, not that a PET attribute is missing.
        found = f"Units (0054,1001) '{units}'" if units else "no Units (0054,1001)"
        raise UnitError(
            f"Cannot compute SUV for {header.label}: it is a Modality {modality} series "
            f"({found}), not PET. Expected a PET series: Modality PT, or NM with Units BQML "
            "(Bq/mL). Point to the PET series of the study."
        )
    if not units:
        what = (
            "an NM image has no Units (0054,1001) and stores counts; SUV needs a camera "
            "calibration to Bq/mL (quantitative SPECT is stored as PT with Units BQML)"
            if modality == "NM"
            else "Units (0054,1001) is missing, so the pixel values are of unknown kind"
        )
        raise UnitError(f"Cannot compute SUV for {header.label}: {what}.")
    if units in _NON_QUANTITATIVE:
        raise UnitError(
            f"Cannot compute SUV for {header.label}: Units (0054,1001) is '{units}' "
            f"({_NON_QUANTITATIVE[units]}), which is not an activity concentration. Expected "
            "BQML, CNTS with Philips scale factors, GML or CM2ML. No SUV is given."
        )
    if units not in _QUANTITATIVE_UNITS:
        raise UnitError(
            f"Cannot compute SUV for {header.label}: Units (0054,1001) '{units}' is not known. "
            "Expected BQML, CNTS, GML or CM2ML."
        )
    if modality not in {"PT", ""}:
        log.warn(
            f"{header.label}: Modality is '{modality}', not PT; Units {units} was trusted.",
        )
    log.provenance["units"] = f"Units (0054,1001) {units}"
    return units


def _body_normalisers(body: Body, formula: LbmFormula, label: str, log: _Log) -> None:
    """Fill LBM, IBW and BSA on ``body`` where height (and sex) allow; say why not."""
    body.fill_normalisers(formula, label=label, log=log.warn, prov=log.provenance)


def _conversion(
    header: PetHeader, units: str, inputs: Inputs, log: _Log
) -> tuple[tuple[float, ...] | None, tuple[float, ...], float | None]:
    """Per-slice stored→Bq/mL, per-slice stored→SUVbw and the g/Bq SUVbw factor."""
    n = len(header.slices)
    if units == "BQML":
        factor = inputs.require_bw_factor(header.label)
        to_bq = inputs.none_corrections or (1.0,) * n
        log.provenance["conversion"] = "Units BQML: stored values are Bq/mL" + (
            "; each slice decay-corrected to the injection time" if inputs.is_none else ""
        )
        return to_bq, tuple(v * factor for v in to_bq), factor
    if units == "CNTS":
        return _philips_counts(header, inputs, log)
    if units == "GML":
        return _stored_suv(header, inputs, log)
    return _stored_bsa(header, inputs, log)


def _private_floats(header: PetHeader, attr: str) -> list[float | None]:
    out: list[float | None] = []
    for facts in header.slices:
        pv = getattr(facts, attr)
        try:
            value = None if pv is None else float(pv.value)
        except ValueError:
            value = None
        out.append(value if value is not None and math.isfinite(value) and value > 0 else None)
    return out


def _note_missing_creator(header: PetHeader, attr: str, tag: str, log: _Log) -> None:
    if any(
        getattr(s, attr) is not None and getattr(s, attr).creator_missing for s in header.slices
    ):
        log.warn(
            f"{header.label}: private {tag} has no private creator in its group; it was read "
            "as the Philips PET Private Group value (as in the IBSI DROs)."
        )


def _philips_counts(
    header: PetHeader, inputs: Inputs, log: _Log
) -> tuple[tuple[float, ...] | None, tuple[float, ...], float | None]:
    suv_f = _private_floats(header, "philips_suv_factor")
    act_f = _private_floats(header, "philips_activity_factor")
    factor = inputs.optional_bw_factor(header.label, log.warn)
    corr = inputs.none_corrections or (1.0,) * len(header.slices)
    if all(v is not None for v in suv_f):
        _note_missing_creator(header, "philips_suv_factor", "(7053,1000)", log)
        to_suv = tuple(float(v or 0.0) for v in suv_f)
        to_bq: tuple[float, ...] | None = None
        if all(v is not None for v in act_f):
            to_bq = tuple(float(v or 0.0) * c for v, c in zip(act_f, corr, strict=True))
        elif factor is not None:
            to_bq = tuple(s / factor for s in to_suv)
        log.provenance["conversion"] = (
            "Units CNTS (Philips): SUVbw = stored counts × SUV scale factor (7053,1000) "
            f"'{PHILIPS_LABEL}' = {_compact(to_suv)}"
            + ("" if to_bq is None else f"; Bq/mL per count {_compact(to_bq)}")
        )
        if to_bq is not None and factor is not None and all(v is not None for v in act_f):
            _cross_check(header, to_suv, tuple(b * factor for b in to_bq), log)
        return to_bq, to_suv, factor
    if all(v is not None for v in act_f):
        _note_missing_creator(header, "philips_activity_factor", "(7053,1009)", log)
        factor = inputs.require_bw_factor(header.label)
        to_bq = tuple(float(v or 0.0) * c for v, c in zip(act_f, corr, strict=True))
        log.provenance["conversion"] = (
            "Units CNTS (Philips): Bq/mL = stored counts × activity concentration scale factor "
            f"(7053,1009) '{PHILIPS_LABEL}' = {_compact(to_bq)}, then as BQML"
        )
        return to_bq, tuple(b * factor for b in to_bq), factor
    raise UnitError(
        f"Cannot compute SUV for {header.label}: Units (0054,1001) is CNTS (counts) but the "
        "Philips private SUV scale factor (7053,1000) and activity concentration scale factor "
        f"(7053,1009) of '{PHILIPS_LABEL}' are missing, zero or not on every slice. Counts "
        "cannot be converted to Bq/mL without a calibration; no SUV is given."
    )


PHILIPS_LABEL = "Philips PET Private Group"


def _cross_check(
    header: PetHeader, direct: tuple[float, ...], derived: tuple[float, ...], log: _Log
) -> None:
    worst = max(abs(a / b - 1.0) for a, b in zip(direct, derived, strict=True) if b > 0)
    log.provenance["philips_cross_check"] = (
        "(7053,1000) vs (7053,1009) × header SUVbw factor: largest relative difference "
        f"{worst:.2%}"
    )
    if worst > 0.02:
        log.warn(
            f"{header.label}: Philips SUV scale factor (7053,1000) differs by {worst:.1%} from "
            "(7053,1009) × the SUVbw factor from weight, dose and times in the header; "
            "(7053,1000) was used (Philips conformance statement). Check the header values."
        )


def _stored_suv(
    header: PetHeader, inputs: Inputs, log: _Log
) -> tuple[tuple[float, ...] | None, tuple[float, ...], float | None]:
    """Units GML: stored values are SUV of SUVType (empty = BW)."""
    suv_type = (inputs.suv_type or "BW").upper()
    body = inputs.body
    ratio = 1.0
    if suv_type != "BW":
        ratio = body.stored_type_to_bw(suv_type, header.label)
    factor = inputs.optional_bw_factor(header.label, log.warn)
    n = len(header.slices)
    to_suv = (ratio,) * n
    to_bq = None if factor is None else (ratio / factor,) * n
    log.provenance["conversion"] = (
        f"Units GML: stored values are already SUV (SUVType {inputs.suv_type or 'empty → BW'}); "
        + (
            "SUVbw = stored value"
            if suv_type == "BW"
            else f"SUVbw = stored × {ratio:.6g} (W/{suv_type})"
        )
        + ". The g/Bq factors are computed from the header for reference"
        + ("" if factor is not None else " (not available)")
    )
    return to_bq, to_suv, factor


def _stored_bsa(
    header: PetHeader, inputs: Inputs, log: _Log
) -> tuple[tuple[float, ...] | None, tuple[float, ...], float | None]:
    """Units CM2ML: stored values are SUVbsa in cm²/mL (SUVType BSA)."""
    if (inputs.suv_type or "BSA").upper() != "BSA":
        log.warn(
            f"{header.label}: Units CM2ML with SUVType '{inputs.suv_type}'; CM2ML is the unit "
            "of SUVbsa, so the values were read as SUVbsa."
        )
    ratio = inputs.body.stored_type_to_bw("BSA", header.label)
    factor = inputs.optional_bw_factor(header.label, log.warn)
    n = len(header.slices)
    log.provenance["conversion"] = (
        f"Units CM2ML: stored values are SUVbsa (cm²/mL); SUVbw = stored × W[g]/BSA[cm²] "
        f"= stored × {ratio:.6g} (Du Bois BSA)"
    )
    return (None if factor is None else (ratio / factor,) * n), (ratio,) * n, factor


_UNIT_OF = {
    Normalisation.BW: Unit.SUV_BW,
    Normalisation.LBM: Unit.SUV_LBM,
    Normalisation.BSA: Unit.SUV_BSA,
    Normalisation.IBW: Unit.SUV_IBW,
}


def suv_volume(
    series: DicomSeries,
    result: SuvResult,
    *,
    normalisation: Normalisation | str = "bw",
    dtype: type[np.float32] | type[np.float64] = np.float64,
) -> ImageVolume:
    """Convert the series' values to SUV.

    Parameters
    ----------
    series
        The series the result was computed for.
    result
        :func:`compute_suv` of ``series``.
    normalisation
        ``bw``, ``lbm`` (with ``result.lbm_formula``), ``bsa`` (cm²/mL) or ``ibw``.
    dtype
        ``numpy.float64`` (default) or ``numpy.float32`` (half the memory; about 7 significant
        digits, more than a PET measurement holds).

    Returns
    -------
    ImageVolume
        ``dtype`` values, same grid as ``series.volume``; unit ``Unit.SUV_BW`` etc.

    Raises
    ------
    NotComputableError
        If the normaliser is unknown (height or sex missing) or the result belongs to
        another series.
    """
    norm = parse_option(normalisation, Normalisation, what="SUV normalisation")
    if result.series_instance_uid != series.series_instance_uid or len(
        result.stored_to_suv_bw
    ) != len(series.headers):
        raise NotComputableError(
            f"The SUV result of series {result.series_instance_uid} does not belong to series "
            f"{series.series_instance_uid}."
        )
    scale = np.asarray(result.stored_to_suv_bw, dtype=np.float64) * result.normaliser_ratio(norm)
    # One output allocation, no float64 copy of the input first.
    array = np.multiply(series.volume.array, scale[:, np.newaxis, np.newaxis], dtype=dtype)
    return series.volume.with_array(array, unit=_UNIT_OF[norm])


def _suvmax(values: npt.NDArray[Any], to_suv_bw: tuple[float, ...]) -> float | None:
    """SUVbw maximum over the finite values of ``values`` (``None`` if there are none)."""
    return _suv_extremes(values, to_suv_bw)[0]
