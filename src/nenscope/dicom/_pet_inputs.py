"""Interpret a PET series' header values (plus user overrides) as SUV inputs.

Each input (weight, height, sex, dose, half-life, injection time, decay reference) is taken
from the override if given, else from the header, checked, and recorded in provenance. An
input that is missing or implausible is not refused here but remembered as a *problem*; the
SUV branch that needs it refuses with that message (a GML series needs no dose, an ADMIN
series no injection time).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from nenscope.core.errors import (
    DicomDeviationWarning,
    EstimatedValueWarning,
    ImpossibleValueError,
    MissingAttributeError,
    NotComputableError,
    UnitError,
    WorkbenchError,
)
from nenscope.core.patient import (
    ADMINISTERED_ACTIVITY_RANGE_MBQ,
    BODY_HEIGHT_RANGE_CM,
    BODY_WEIGHT_RANGE_KG,
    check_administered_activity_mbq,
    check_body_height_cm,
    check_body_weight_kg,
)
from nenscope.core.units import BQ_PER_MBQ, CM_PER_M, G_PER_KG
from nenscope.dicom._pet_header import PetHeader, attribute_tag, parse_da, parse_dt, parse_tm
from nenscope.quantification.bodysize import (
    LbmFormula,
    Sex,
    bsa_dubois_m2,
    ibw_kg,
    lbm_kg,
)
from nenscope.quantification.radionuclides import (
    HALF_LIFE_RTOL,
    RADIONUCLIDES,
    Radionuclide,
    identify_radionuclide,
)
from nenscope.quantification.suv import (
    REFERENCE_SPREAD_TOL_S,
    DecayCorrection,
    ReferenceMethod,
    ReferenceTime,
    back_computed_reference_times,
    choose_reference_time,
    none_slice_corrections,
    resolve_injection_time,
    suv_bw_factor,
)

__all__ = ["Body", "Inputs", "read_inputs"]

Warn = Callable[..., None]

WEIGHT_IN_GRAMS_ABOVE = 1000.0
"""PatientWeight above this many "kg" was entered in grams (suv-rules.md §4.2)."""

DOSE_IN_MBQ_BELOW = 1.0e5
"""RadionuclideTotalDose below this many "Bq" (0.1 MBq) was stored in MBq (IBSI DRO_3_0)."""

HEIGHT_RANGE_CM = BODY_HEIGHT_RANGE_CM
"""Possible patient height in cm; PatientSize outside it is not used (never guessed)."""

LONG_HALF_LIFE_S = 86400.0
"""Nuclides with T½ above one day are imaged on later days: a time-only injection is refused."""

MAX_HALF_LIVES = 10.0
"""More half-lives than this between injection and reference time is refused as a wrong date.

Clinical protocols stay below ~4 (18F at 4 h: 2.2; 64Cu at 48 h: 3.8; 177Lu at day 7: 1).
A decay of 2^-10 would make every SUV 1000 times too high."""


@dataclass(slots=True)
class Body:
    """Patient size: weight (kg), height (cm), sex, and the normalisers derived from them."""

    weight_kg: float | None = None
    height_cm: float | None = None
    sex: Sex | None = None
    weight_problem: str = ""
    height_problem: str = ""
    sex_problem: str = ""
    lbm_kg: float | None = None
    ibw_kg: float | None = None
    bsa_m2: float | None = None

    def fill_normalisers(
        self, formula: LbmFormula, *, label: str, log: Warn, prov: MutableMapping[str, str]
    ) -> None:
        """Compute LBM (``formula``), IBW and BSA where possible; warn and record why not."""
        if self.weight_kg is None:
            return
        if self.height_cm is None:
            why = f"no height ({self.height_problem}); SUVlbm, SUVbsa and SUVibw are not given"
            prov["lbm"] = prov["bsa"] = prov["ibw"] = why
            log(f"{label}: {why}. Pass --height-cm to get them.", EstimatedValueWarning)
            return
        self.bsa_m2 = bsa_dubois_m2(self.weight_kg, self.height_cm)
        prov["bsa"] = f"Du Bois BSA {self.bsa_m2:.4f} m² (SUVbsa in cm²/mL)"
        if self.sex is None:
            why = f"no sex ({self.sex_problem}); SUVlbm and SUVibw are not given"
            prov["lbm"] = prov["ibw"] = why
            log(f"{label}: {why}. Pass --sex M or --sex F to get them.", EstimatedValueWarning)
            return
        try:
            self.lbm_kg = lbm_kg(formula, self.weight_kg, self.height_cm, self.sex)
            prov["lbm"] = f"{formula.name.title()} ({formula.value}) LBM {self.lbm_kg:.3f} kg"
        except WorkbenchError as err:
            prov["lbm"] = f"{formula.value}: {err}"
            log(f"{label}: SUVlbm not given: {err}", EstimatedValueWarning)
        self.ibw_kg = ibw_kg(self.weight_kg, self.height_cm, self.sex)
        prov["ibw"] = f"IBW (Sugawara 1999, not clamped) {self.ibw_kg:.3f} kg"

    def stored_type_to_bw(self, suv_type: str, label: str) -> float:
        """W / normaliser for stored SUV of ``suv_type`` (GML/CM2ML back-conversion to SUVbw)."""
        formulas = {t.value: t for t in LbmFormula}
        needs_sex = suv_type in formulas or suv_type == "IBW"
        if suv_type not in {*formulas, "IBW", "BSA"}:
            raise UnitError(
                f"Cannot compute SUVbw for {label}: SUVType (0054,1006) '{suv_type}' is not one "
                "of BW, LBM, LBMJAMES128, LBMJANMA, IBW, BSA."
            )
        if self.weight_kg is None:
            raise _missing_weight(label, self.weight_problem, f"back-convert SUV{suv_type}")
        if self.height_cm is None:
            raise NotComputableError(
                f"Cannot compute SUVbw for {label}: the stored values are SUV{suv_type}, which "
                f"needs the height: {self.height_problem}. Pass --height-cm."
            )
        if needs_sex and self.sex is None:
            raise NotComputableError(
                f"Cannot compute SUVbw for {label}: the stored values are SUV{suv_type}, which "
                f"needs the sex: {self.sex_problem}. Pass --sex M, F or O."
            )
        sex = self.sex or Sex.OTHER
        if suv_type == "BSA":
            return (
                self.weight_kg
                * G_PER_KG
                / (bsa_dubois_m2(self.weight_kg, self.height_cm) * CM_PER_M**2)
            )
        if suv_type == "IBW":
            return self.weight_kg / ibw_kg(self.weight_kg, self.height_cm, sex)
        return self.weight_kg / lbm_kg(formulas[suv_type], self.weight_kg, self.height_cm, sex)


def _missing_weight(label: str, problem: str, purpose: str = "compute SUVbw") -> WorkbenchError:
    return MissingAttributeError(
        f"Cannot {purpose} for {label}: {problem}. Pass --weight-kg or correct the header."
    )


@dataclass(slots=True)
class Inputs:
    """Interpreted SUV inputs of one series; ``problems`` holds why an input is unknown."""

    decay_correction: DecayCorrection
    suv_type: str | None
    body: Body
    radionuclide: str | None = None
    half_life_s: float | None = None
    dose_bq: float | None = None
    injection: datetime | None = None
    reference: ReferenceTime | None = None
    none_corrections: tuple[float, ...] | None = None
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def is_none(self) -> bool:
        """Whether the images are not decay corrected (DecayCorrection NONE)."""
        return self.decay_correction is DecayCorrection.NONE

    def require_bw_factor(self, label: str) -> float:
        """Return the SUVbw factor in g/Bq, or raise naming the missing input and its override."""
        if self.body.weight_kg is None:
            raise _missing_weight(label, self.body.weight_problem)
        keys = ["decay_correction", "dose"]
        if self.decay_correction is not DecayCorrection.ADMIN:
            keys += ["half_life", "injection", "reference"]
        for key in keys:
            if key in self.problems:
                error = UnitError if key == "decay_correction" else NotComputableError
                raise error(f"Cannot compute SUVbw for {label}: {self.problems[key]}")
        elapsed = 0.0
        if self.decay_correction is DecayCorrection.START:
            if self.reference is None or self.injection is None or self.half_life_s is None:
                raise NotComputableError(f"Cannot compute SUVbw for {label}: no decay reference.")
            elapsed = (self.reference.when - self.injection).total_seconds()
        if self.dose_bq is None:  # pragma: no cover - "dose" is in problems then
            raise NotComputableError(f"Cannot compute SUVbw for {label}: no dose.")
        return suv_bw_factor(
            weight_kg=self.body.weight_kg,
            injected_activity_bq=self.dose_bq,
            injection_to_scan_s=elapsed,
            half_life_s=self.half_life_s or 1.0,
        )

    def optional_bw_factor(self, label: str, log: Warn) -> float | None:
        """Return the SUVbw factor if the header allows it, else ``None`` with a note why."""
        try:
            return self.require_bw_factor(label)
        except WorkbenchError as err:
            log(
                f"The g/Bq SUV factors are not given (the stored values were converted without "
                f"them): {err}",
                EstimatedValueWarning,
            )
            return None


def read_inputs(
    header: PetHeader,
    overrides: object,
    *,
    log: Warn,
    prov: MutableMapping[str, str],
) -> Inputs:
    """Interpret ``header`` with ``overrides`` (a ``SuvOverrides``) into :class:`Inputs`."""
    values = header.values
    problems: dict[str, str] = {}
    dc = _decay_correction(values.get("DecayCorrection"), problems, prov)
    _check_corrected_image(header, dc, log)
    inputs = Inputs(
        decay_correction=dc or DecayCorrection.START,
        suv_type=values.get("SUVType"),
        body=_body(header, overrides, log, prov),
        problems=problems,
    )
    _half_life(header, inputs, log, prov)
    _dose(header, overrides, inputs, log, prov)
    _timing(header, overrides, inputs, log, prov)
    if dc is None:
        inputs.reference = None
    return inputs


def _decay_correction(
    raw: object, problems: dict[str, str], prov: MutableMapping[str, str]
) -> DecayCorrection | None:
    text = str(raw or "").strip().upper()
    try:
        dc = DecayCorrection(text)
    except ValueError:
        problems["decay_correction"] = (
            f"DecayCorrection (0054,1102) is {text or 'missing'}; expected START, ADMIN or NONE, "
            "so the decay reference of the values is unknown."
        )
        return None
    prov["decay_correction"] = {
        DecayCorrection.START: "START: values decay-corrected to the series reference time; "
        "the dose is decayed to that time",
        DecayCorrection.ADMIN: "ADMIN: values decay-corrected to the administration time; "
        "the dose is not decayed",
        DecayCorrection.NONE: "NONE: values not decay-corrected; each slice is corrected to "
        "the administration time (frame-average factor), the dose is not decayed",
    }[dc]
    return dc


def _check_corrected_image(header: PetHeader, dc: DecayCorrection | None, log: Warn) -> None:
    corrected = header.values.get("CorrectedImage")
    if corrected is None:
        units = str(header.values.get("Units") or "").upper()
        if units in ("BQML", "CNTS"):
            # QIBA, Slicer, cornerstone and z-rad all refuse here (suv-rules.md §4.2).
            raise NotComputableError(
                f"Cannot compute SUV for {header.label}: CorrectedImage (0028,0051) is missing, "
                "so it is unknown whether the activity values are attenuation (ATTN) and decay "
                "(DECY) corrected. Correct the header if they are."
            )
        log(
            f"{header.label}: CorrectedImage (0028,0051) is missing; the stored values are "
            f"already SUV (Units {units}), so they were used as they are."
        )
        return
    if "ATTN" not in corrected:
        raise NotComputableError(
            f"Cannot compute SUV for {header.label}: CorrectedImage (0028,0051) "
            f"{'/'.join(corrected)} lacks ATTN, so the images are not attenuation corrected and "
            "their values are not activity concentrations."
        )
    has_decay = "DECY" in corrected or "DECAY" in corrected
    if dc in (DecayCorrection.START, DecayCorrection.ADMIN) and not has_decay:
        raise NotComputableError(
            f"Cannot compute SUV for {header.label}: DecayCorrection (0054,1102) is {dc.value} "
            f"but CorrectedImage (0028,0051) {'/'.join(corrected)} lacks DECY; the header "
            "contradicts itself about decay correction."
        )
    if dc is DecayCorrection.NONE and has_decay:
        log(
            f"{header.label}: DecayCorrection NONE but CorrectedImage lists DECY; "
            "DecayCorrection was followed."
        )


def _body(header: PetHeader, overrides: object, log: Warn, prov: MutableMapping[str, str]) -> Body:
    body = Body()
    _weight(header, getattr(overrides, "weight_kg", None), body, log, prov)
    _height(header, getattr(overrides, "height_cm", None), body, prov)
    _sex(header, getattr(overrides, "sex", None), body, prov)
    return body


def _shown(raw: object) -> str:
    """Describe a raw header value for a message: 'missing' or the value quoted."""
    return "missing" if raw is None else f"{str(raw)!r}, not a usable value"


def _positive_float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]  # DS, str, int or None
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _weight(
    header: PetHeader,
    override: float | None,
    body: Body,
    log: Warn,
    prov: MutableMapping[str, str],
) -> None:
    raw = header.values.get("PatientWeight")
    if override is not None:
        if _positive_float(override) is None:
            raise NotComputableError(f"--weight-kg must be a number > 0, not {override}.")
        # The same possible range as the dose calculators and the scenario reader: an
        # impossible override (5000 kg) would scale every SUV, so it is refused, not trusted.
        body.weight_kg = check_body_weight_kg(float(override), name="--weight-kg")
        prov["weight"] = f"{override} kg from --weight-kg (header PatientWeight: {raw})"
        return
    weight = _positive_float(raw)
    if weight is None:
        body.weight_problem = f"PatientWeight (0010,1030) is {_shown(raw)}"
        prov["weight"] = body.weight_problem
        return
    in_grams = weight > WEIGHT_IN_GRAMS_ABOVE
    if in_grams:
        weight /= G_PER_KG
    low, high = BODY_WEIGHT_RANGE_KG
    if not low <= weight <= high:
        # The range --weight-kg is held to: an impossible header weight is not used either.
        body.weight_problem = (
            f"PatientWeight (0010,1030) is {raw}"
            + (f" (read as grams: {weight:g} kg)" if in_grams else " kg")
            + f", not a possible body weight (expected {low:g} to {high:g} kg)"
        )
        prov["weight"] = body.weight_problem
        return
    if in_grams:
        log(
            f"{header.label}: PatientWeight (0010,1030) is {raw}, taken as grams "
            f"({weight:g} kg). Pass --weight-kg if that is wrong.",
            DicomDeviationWarning,
        )
        prov["weight"] = f"{weight:g} kg: PatientWeight {raw} read as grams"
    else:
        prov["weight"] = f"{weight:g} kg from PatientWeight (0010,1030)"
    body.weight_kg = weight


def _height(
    header: PetHeader, override: float | None, body: Body, prov: MutableMapping[str, str]
) -> None:
    raw = header.values.get("PatientSize")
    if override is not None:
        if _positive_float(override) is None:
            raise NotComputableError(f"--height-cm must be a number > 0, not {override}.")
        body.height_cm = check_body_height_cm(float(override), name="--height-cm")
        prov["height"] = f"{override} cm from --height-cm (header PatientSize: {raw})"
        return
    size_m = _positive_float(raw)
    if size_m is None:
        body.height_problem = f"PatientSize (0010,1020) is {_shown(raw)}"
    elif not HEIGHT_RANGE_CM[0] <= size_m * CM_PER_M <= HEIGHT_RANGE_CM[1]:
        body.height_problem = (
            f"PatientSize (0010,1020) is {size_m:g} m, outside {HEIGHT_RANGE_CM[0]:g}–"
            f"{HEIGHT_RANGE_CM[1]:g} cm (is it in cm instead of m?)"
        )
    else:
        body.height_cm = round(size_m * CM_PER_M, 9)  # 1.753 m -> 175.3 cm, not 175.2999…
        prov["height"] = f"{body.height_cm:g} cm from PatientSize (0010,1020) {raw} m"
        return
    prov["height"] = body.height_problem


def _sex(
    header: PetHeader, override: str | None, body: Body, prov: MutableMapping[str, str]
) -> None:
    raw = header.values.get("PatientSex")
    text = str(override if override is not None else (raw or "")).strip().upper()
    text = {"MALE": "M", "FEMALE": "F", "OTHER": "O"}.get(text, text)
    source = "--sex" if override is not None else "PatientSex (0010,0040)"
    if text in {"M", "F", "O"}:
        body.sex = Sex(text)
        prov["sex"] = f"{text} from {source}" + (
            "; O uses the mean of the male and female formulas (IBSI)" if text == "O" else ""
        )
    elif override is not None:
        raise NotComputableError(f"--sex must be M, F or O, not {override!r}.")
    else:
        body.sex_problem = f"PatientSex (0010,0040) is {_shown(raw)}"
        prov["sex"] = body.sex_problem


def _nuclide_of(header: PetHeader) -> tuple[Radionuclide | None, bool]:
    """Return the radionuclide and whether it came from RadionuclideCodeSequence (strong)."""
    strong = identify_radionuclide(header.radionuclide_meaning)
    if strong is not None:
        return strong, True
    return identify_radionuclide(str(header.values.get("Radiopharmaceutical") or "")), False


def _half_life(
    header: PetHeader, inputs: Inputs, log: Warn, prov: MutableMapping[str, str]
) -> None:
    nuclide, strong = _nuclide_of(header)
    raw = header.values.get("RadionuclideHalfLife")
    value = _positive_float(raw)
    inputs.radionuclide = nuclide.label if nuclide else None
    if value is None and nuclide is not None:
        inputs.half_life_s = nuclide.half_life_s
        prov["half_life"] = f"{nuclide.half_life_s:g} s: nominal {nuclide.label} (header: {raw})"
        log(
            f"{header.label}: RadionuclideHalfLife (0018,1075) is {raw!r}; the nominal "
            f"{nuclide.label} half-life {nuclide.half_life_s:g} s was used.",
            EstimatedValueWarning,
        )
        return
    if value is None:
        inputs.problems["half_life"] = (
            f"RadionuclideHalfLife (0018,1075) is {raw!r} and the radionuclide is not named in "
            "RadionuclideCodeSequence (0054,0300); without a half-life the decay cannot be "
            "computed. Correct the header."
        )
        return
    inputs.half_life_s = value
    prov["half_life"] = f"{value:g} s from RadionuclideHalfLife (0018,1075)"
    if nuclide is None:
        match = [
            n.label for n in RADIONUCLIDES if abs(value / n.half_life_s - 1) <= HALF_LIFE_RTOL
        ]
        inputs.radionuclide = match[0] if len(match) == 1 else None
        prov["half_life"] += f"; radionuclide not named, half-life matches {match or 'none'}"
        return
    mismatch = abs(value / nuclide.half_life_s - 1.0)
    prov["half_life"] += f"; consistent with {nuclide.label} ({nuclide.half_life_s:g} s)"
    if mismatch > HALF_LIFE_RTOL:
        text = (
            f"RadionuclideHalfLife (0018,1075) {value:g} s does not match the radionuclide "
            f"{nuclide.label} ({nuclide.half_life_s:g} s) named in "
            + ("RadionuclideCodeSequence (0054,0300)" if strong else "Radiopharmaceutical")
        )
        if strong:
            raise NotComputableError(
                f"Cannot compute SUV for {header.label}: {text}. One of them is wrong (a wrongly "
                "configured isotope also makes the scanner's Bq/mL wrong); correct the header."
            )
        prov["half_life"] = f"{value:g} s from RadionuclideHalfLife (0018,1075); {text}"
        log(f"{header.label}: {text}; the header half-life was used.", DicomDeviationWarning)


def _dose(
    header: PetHeader, overrides: object, inputs: Inputs, log: Warn, prov: MutableMapping[str, str]
) -> None:
    raw = header.values.get("RadionuclideTotalDose")
    override = getattr(overrides, "injected_mbq", None)
    if override is not None:
        if _positive_float(override) is None:
            raise NotComputableError(f"--injected-mbq must be a number > 0, not {override}.")
        mbq = check_administered_activity_mbq(float(override), name="--injected-mbq")
        inputs.dose_bq = mbq * BQ_PER_MBQ
        prov["dose"] = f"{override} MBq from --injected-mbq (header RadionuclideTotalDose: {raw})"
        return
    dose = _positive_float(raw)
    if dose is None or dose < 1.0:
        inputs.problems["dose"] = (
            f"RadionuclideTotalDose (0018,1074) is {raw!r} (missing, 0 or implausible). "
            "Pass --injected-mbq or correct the header."
        )
        return
    in_mbq = dose < DOSE_IN_MBQ_BELOW
    mbq = dose if in_mbq else dose / BQ_PER_MBQ
    try:
        check_administered_activity_mbq(mbq, name="RadionuclideTotalDose (0018,1074)")
    except ImpossibleValueError:
        low, high = ADMINISTERED_ACTIVITY_RANGE_MBQ
        inputs.problems["dose"] = (
            f"RadionuclideTotalDose (0018,1074) is {raw}"
            + (" (read as MBq)" if in_mbq else " Bq")
            + f", {mbq:g} MBq, not a possible administered activity (expected {low:g} to "
            f"{high:g} MBq). Pass --injected-mbq or correct the header."
        )
        return
    if in_mbq:
        log(
            f"{header.label}: RadionuclideTotalDose (0018,1074) is {dose:g}, taken as MBq "
            f"({dose:g} MBq = {dose * BQ_PER_MBQ:g} Bq). Pass --injected-mbq if that is wrong.",
            DicomDeviationWarning,
        )
        inputs.dose_bq = dose * BQ_PER_MBQ
        prov["dose"] = f"{inputs.dose_bq:g} Bq: RadionuclideTotalDose {raw} read as MBq"
        return
    inputs.dose_bq = dose
    prov["dose"] = f"{dose:g} Bq from RadionuclideTotalDose (0018,1074), not residual-corrected"


def _series_datetime(header: PetHeader, log: Warn) -> datetime | None:
    """SeriesDate + SeriesTime; a missing or unreadable one is said (PET Series: Type 1)."""
    day = parse_da(header.values.get("SeriesDate"))
    tod = parse_tm(header.values.get("SeriesTime"))
    for keyword, parsed in (("SeriesDate", day), ("SeriesTime", tod)):
        raw = header.values.get(keyword)
        if parsed is None:
            what = "missing" if raw is None else f"{str(raw)!r}, not a DICOM {keyword[6:8]}"
            log(
                f"{header.label}: {attribute_tag(keyword)} is {what}; the decay reference "
                "and injection date come from the other times of the header (see provenance). "
                "Correct the header if the SUV matters.",
                DicomDeviationWarning,
            )
    if day is None or tod is None:
        return None
    return datetime.combine(day, tod)


def _acquisition_problems(header: PetHeader, log: Warn) -> None:
    """Warn once when some slices' acquisition times are missing or unreadable."""
    problems = [s.acquisition_problem for s in header.slices if s.acquisition_problem]
    if not problems:
        return
    log(
        f"{header.label}: {problems[0]} on {len(problems)} of {len(header.slices)} slices; "
        "SeriesTime could not be checked against the acquisition start on those slices (a "
        "SeriesTime after the acquisition, as in re-exported series, makes every SUV too "
        "high). Correct the header if the SUV matters.",
        DicomDeviationWarning,
    )


def _timing(
    header: PetHeader, overrides: object, inputs: Inputs, log: Warn, prov: MutableMapping[str, str]
) -> None:
    series_dt = _series_datetime(header, log)
    acq = [s.acquisition for s in header.slices]
    known_acq = [a for a in acq if a is not None]
    earliest = min(known_acq) if known_acq else None
    scan = (
        series_dt
        if series_dt is not None and (earliest is None or series_dt <= earliest)
        else earliest
    )
    _injection(header, overrides, inputs, scan, log, prov)
    dc = inputs.decay_correction
    if dc is DecayCorrection.ADMIN or dc is DecayCorrection.NONE:
        if inputs.injection is not None:
            inputs.reference = ReferenceTime(
                when=inputs.injection,
                method=ReferenceMethod.ADMINISTRATION,
                reason=f"DecayCorrection {dc.value}: the values refer to the administration time",
            )
            prov["reference_time"] = inputs.reference.reason
        if dc is DecayCorrection.NONE:
            _none_corrections(header, inputs, acq)
        return
    _acquisition_problems(header, log)
    _start_reference(header, inputs, series_dt, acq, log, prov)


_TZ_OFFSET = re.compile(r"^([+-])(\d{2})(\d{2})$")


def _header_utc_offset(header: PetHeader) -> timedelta | None:
    """TimezoneOffsetFromUTC (0008,0201) as a timedelta ("+0100" → 1 h), or None if absent."""
    match = _TZ_OFFSET.match(str(header.values.get("TimezoneOffsetFromUTC") or "").strip())
    if match is None:
        return None
    sign = -1 if match[1] == "-" else 1
    return sign * timedelta(hours=int(match[2]), minutes=int(match[3]))


def _local_override(header: PetHeader, override: datetime) -> datetime:
    """``--injection-time`` in the scanner's local time, the clock the header's times use.

    A naive value is taken as scanner local time. A value with a UTC offset is converted with
    TimezoneOffsetFromUTC (0008,0201); without that attribute the header's clock has no known
    zone, so the offset cannot be honoured and is refused rather than silently dropped.
    """
    if override.utcoffset() is None:
        return override.replace(tzinfo=None)
    scanner = _header_utc_offset(header)
    if scanner is None:
        naive = override.replace(tzinfo=None).isoformat()
        raise NotComputableError(
            f"--injection-time {override.isoformat()} has a UTC offset, but {header.label} "
            "records no TimezoneOffsetFromUTC (0008,0201): its times are scanner local time of "
            "an unknown zone, so the offset cannot be applied. Give the injection time in the "
            f"scanner's local time without an offset (e.g. {naive})."
        )
    return override.astimezone(timezone(scanner)).replace(tzinfo=None)


def _injection(
    header: PetHeader,
    overrides: object,
    inputs: Inputs,
    scan: datetime | None,
    log: Warn,
    prov: MutableMapping[str, str],
) -> None:
    override = getattr(overrides, "injection_time", None)
    if override is not None:
        inputs.injection = _local_override(header, override)
        given = override.isoformat()
        prov["injection_time"] = f"{inputs.injection.isoformat()} from --injection-time" + (
            ""
            if override.utcoffset() is None
            else f" {given}, converted to the scanner's TimezoneOffsetFromUTC (0008,0201) "
            f"{header.values.get('TimezoneOffsetFromUTC')}"
        )
        return
    values = header.values
    full, offset = parse_dt(values.get("RadiopharmaceuticalStartDateTime"))
    if values.get("RadiopharmaceuticalStartDateTime") is not None and full is None:
        log(
            f"{header.label}: RadiopharmaceuticalStartDateTime (0018,1078) "
            f"{values.get('RadiopharmaceuticalStartDateTime')!r} is not a DICOM DT with a time of "
            "day; it was ignored."
        )
    tod = parse_tm(values.get("RadiopharmaceuticalStartTime"))
    day = parse_da(values.get("SeriesDate")) or (scan.date() if scan else None)
    from_series = datetime.combine(day, tod) if day and tod else None
    when, how = resolve_injection_time(
        injection_datetime=full, injection_date_from_series=from_series, scan_datetime=scan
    )
    if when is None:
        inputs.problems["injection"] = (
            "RadiopharmaceuticalStartDateTime (0018,1078) and RadiopharmaceuticalStartTime "
            "(0018,1072) are missing or unreadable, so the decay from injection to scan is "
            "unknown. Pass --injection-time (e.g. 2025-01-01T10:00:00)."
        )
        return
    if offset:
        how += f" (UTC offset {offset} ignored: all times are taken as scanner local time)"
    if (
        full is not None
        and tod is not None
        and abs((datetime.combine(full.date(), tod) - full).total_seconds()) > 1.0
    ):
        log(
            f"{header.label}: RadiopharmaceuticalStartDateTime {full.isoformat()} and "
            f"RadiopharmaceuticalStartTime {tod.isoformat()} disagree; the DateTime was used."
        )
    if full is None and (inputs.half_life_s or 0.0) > LONG_HALF_LIFE_S:
        # suv-rules.md §4.2: multi-day protocols (177Lu, 89Zr, 111In) REQUIRE the DateTime.
        inputs.problems["injection"] = (
            "RadiopharmaceuticalStartDateTime (0018,1078) is missing and only "
            f"RadiopharmaceuticalStartTime (0018,1072) {tod} is given, but the radionuclide "
            f"(T½ {inputs.half_life_s:g} s) is imaged on later days too, so the time of day "
            "cannot give the decay. Pass --injection-time with the date (e.g. "
            f"{when.date().isoformat()}T{tod}) or correct the header."
        )
    inputs.injection = when
    prov["injection_time"] = f"{when.isoformat()} from {how}"


def _start_reference(
    header: PetHeader,
    inputs: Inputs,
    series_dt: datetime | None,
    acq: list[datetime | None],
    log: Warn,
    prov: MutableMapping[str, str],
) -> None:
    known = [a for a in acq if a is not None]
    back = None
    frames = header.slices
    if (
        inputs.half_life_s is not None
        and known
        and len(known) == len(acq)
        and all(s.frame_reference_s is not None and s.frame_duration_s is not None for s in frames)
    ):
        try:
            back = back_computed_reference_times(
                known,
                [float(s.frame_reference_s or 0.0) for s in frames],
                [float(s.frame_duration_s or 0.0) for s in frames],
                half_life_s=inputs.half_life_s,
            )
        except NotComputableError as err:
            log(f"{header.label}: {err}", DicomDeviationWarning)
    ge = [s.ge_scan_datetime for s in frames if s.ge_scan_datetime is not None]
    explicit, _ = parse_dt(header.values.get("DecayCorrectionDateTime"))
    siemens = [s.siemens_decay_datetime for s in frames if s.siemens_decay_datetime is not None]
    siemens_dt = parse_dt(siemens[0].value)[0] if siemens else None
    ge_dt = parse_dt(ge[0].value)[0] if ge else None
    try:
        ref = (
            ReferenceTime(
                when=explicit,
                method=ReferenceMethod.DECAY_CORRECTION_DATETIME,
                reason="DecayCorrectionDateTime (0018,9701) of the Enhanced PET Corrections "
                "module names the decay reference",
            )
            if explicit is not None
            else choose_reference_time(
                series_datetime=series_dt,
                acquisition_datetimes=known,
                back_computed=back,
                ge_scan_datetime=ge_dt,
                injection_datetime=inputs.injection,
                siemens_decay_datetime=siemens_dt,
            )
        )
    except NotComputableError as err:
        inputs.problems["reference"] = str(err)
        return
    if ref.method is ReferenceMethod.GE_PRIVATE and ge and ge[0].creator_missing:
        log(f"{header.label}: GE private (0009,100D) has no private creator; it was used.")
    if ref.method is ReferenceMethod.SIEMENS_PRIVATE and siemens and siemens[0].creator_missing:
        log(f"{header.label}: Siemens private (0071,1022) has no private creator; it was used.")
    _compare_private(header, ref, siemens_dt, log, prov)
    for message in ref.warnings:
        log(f"{header.label}: {message}")
    _say_reference_source(header, ref, log)
    inputs.reference = ref
    prov["reference_time"] = f"{ref.when.isoformat()}: {ref.reason}"
    if back is not None:
        spread = (max(back) - min(back)).total_seconds()
        prov["reference_time_check"] = (
            f"frame back-computation t_acq + T_ave − FrameReferenceTime: {min(back).isoformat()}"
            f" … spread {spread:.1f} s over {len(back)} slices"
        )
    _check_elapsed(header, inputs, ref, log)


def _say_reference_source(header: PetHeader, ref: ReferenceTime, log: Warn) -> None:
    """Warn when the decay reference is not SeriesTime, naming what it was taken from.

    SeriesDate/SeriesTime is the standard's reference for DecayCorrection START (PS3.3
    C.8.9.1.1.5); any other source makes the SUV depend on attributes a reader would not
    expect to matter, so a corruption of them must not pass unnoticed.
    """
    sources = {
        ReferenceMethod.FRAME_BACK_COMPUTED: "back-computed from AcquisitionTime (0008,0032), "
        "ActualFrameDuration (0018,1242) and FrameReferenceTime (0054,1300)",
        ReferenceMethod.GE_PRIVATE: "taken from the GE private scan_datetime (0009,100D)",
        ReferenceMethod.SIEMENS_PRIVATE: "taken from the Siemens private Decay Correction "
        "DateTime (0071,1022)",
    }  # EARLIEST_ACQUISITION warns already (ReferenceTime.warnings)
    source = sources.get(ref.method)
    if source is None:
        return
    log(
        f"{header.label}: the decay reference {ref.when.isoformat()} was {source}, not from "
        f"SeriesDate/SeriesTime ({ref.reason}).",
        DicomDeviationWarning,
    )


def _compare_private(
    header: PetHeader,
    ref: ReferenceTime,
    siemens_dt: datetime | None,
    log: Warn,
    prov: MutableMapping[str, str],
) -> None:
    """Compare the chosen reference with the Siemens private decay datetime, if any."""
    if siemens_dt is None or ref.method is ReferenceMethod.SIEMENS_PRIVATE:
        return
    diff = (siemens_dt - ref.when).total_seconds()
    prov["siemens_private_check"] = (
        f"Siemens private Decay Correction DateTime (0071,1022) {siemens_dt.isoformat()}: "
        f"{diff:+.1f} s from the chosen reference"
    )
    if abs(diff) > REFERENCE_SPREAD_TOL_S:
        log(
            f"{header.label}: Siemens private Decay Correction DateTime (0071,1022) "
            f"{siemens_dt.isoformat()} differs by {diff:+.0f} s from the chosen decay reference "
            f"{ref.when.isoformat()} ({ref.method.value}); the standard attributes were used "
            "(a de-identification date shift of the private tag is the usual cause).",
            DicomDeviationWarning,
        )


def _check_elapsed(header: PetHeader, inputs: Inputs, ref: ReferenceTime, log: Warn) -> None:
    if inputs.injection is None or inputs.half_life_s is None:
        return
    elapsed = (ref.when - inputs.injection).total_seconds()
    if elapsed < 0:
        inputs.problems["reference"] = (
            f"the decay reference time {ref.when.isoformat()} is {-elapsed:.0f} s before the "
            f"injection {inputs.injection.isoformat()}. Check RadiopharmaceuticalStartDateTime "
            "(0018,1078)/StartTime (0018,1072) or pass --injection-time."
        )
    elif elapsed > MAX_HALF_LIVES * inputs.half_life_s:
        inputs.problems["reference"] = (
            f"{elapsed:.0f} s ({elapsed / inputs.half_life_s:.1f} half-lives) lie between the "
            f"injection {inputs.injection.isoformat()} and the decay reference "
            f"{ref.when.isoformat()}; no clinical protocol images that late, so the injection "
            "date or time is wrong. Check RadiopharmaceuticalStartDateTime (0018,1078) or pass "
            "--injection-time."
        )


def _none_corrections(header: PetHeader, inputs: Inputs, acq: list[datetime | None]) -> None:
    frames = header.slices
    if inputs.injection is None or inputs.half_life_s is None:
        return
    if any(a is None for a in acq) or any(s.frame_duration_s is None for s in frames):
        inputs.problems["reference"] = (
            "DecayCorrection NONE needs every slice's AcquisitionDate/AcquisitionTime "
            "(0008,0022)/(0008,0032) and ActualFrameDuration (0018,1242); some are missing."
        )
        return
    frts = [s.frame_reference_s for s in frames if s.frame_reference_s is not None]
    longest = max(float(s.frame_duration_s or 0.0) for s in frames)
    if len(set(acq)) == 1 and len(frames) > 1 and frts and max(frts) - min(frts) > longest:
        inputs.problems["reference"] = (
            "DecayCorrection NONE, but every slice carries the same AcquisitionTime while "
            "FrameReferenceTime spreads over several frames (GE-style bed offsets), so the "
            "acquisition time of each bed is unknown and no per-slice decay correction is safe."
        )
        return
    try:
        corr = none_slice_corrections(
            [a for a in acq if a is not None],
            [float(s.frame_duration_s or 0.0) for s in frames],
            injection_datetime=inputs.injection,
            half_life_s=inputs.half_life_s,
        )
    except NotComputableError as err:
        inputs.problems["reference"] = str(err)
        return
    inputs.none_corrections = tuple(float(c) for c in corr)
