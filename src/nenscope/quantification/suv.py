"""SUV arithmetic: decay, frame-average timing, reference-time choice, SUV factors (pure).

This module holds the numbers of ``shared/reference/suv-rules.md`` §4.2; it never sees a DICOM
dataset. ``nenscope.dicom.pet`` reads the headers into plain values and calls these functions.

Time base: naive :class:`datetime.datetime` values in the scanner's local time (DICOM DA/TM/DT
without offset); all durations are in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import NotComputableError
from nenscope.core.units import G_PER_KG

__all__ = [
    "REFERENCE_SPREAD_TOL_S",
    "SUV_IMPLAUSIBLE_MAX_BELOW",
    "SUV_IMPOSSIBLE_ABOVE",
    "DecayCorrection",
    "ReferenceMethod",
    "ReferenceTime",
    "SuvRangeVerdict",
    "back_computed_reference_times",
    "choose_reference_time",
    "decay_factor",
    "frame_average_offset_s",
    "frame_decay_correction",
    "none_slice_corrections",
    "resolve_injection_time",
    "suv_bw_factor",
    "suv_factor",
    "suv_range_verdict",
]

REFERENCE_SPREAD_TOL_S = 1.0
"""Max spread in s of the per-slice back-computed reference times for them to be trusted."""

MAX_FRAME_TIME_S = 30 * 86400.0
"""Longest frame duration or frame reference time in s (30 days) taken as a real time."""

SUV_IMPOSSIBLE_ABOVE = 500.0
"""SUVbw above this is not a physiological uptake but a unit or scaling error; refused.

The highest uptakes reported in clinical PET stay below about 200 g/mL (urinary bladder and
kidneys with PSMA and SSTR ligands; 18F-FDG bladder ~100); 500 leaves a wide margin. The
errors it catches are orders of magnitude off: Units GML on a Bq/mL series (×10⁴–10⁵),
a missing RescaleSlope on GE int16 data, a dose stored in MBq read as Bq."""

SUV_IMPLAUSIBLE_MAX_BELOW = 0.2
"""A series whose SUVbw maximum is below this holds no physiological uptake anywhere.

Blood pool, liver and muscle are 0.5–3 with every tracer in use; a maximum below 0.2 over a
whole series means a scaling error (RescaleSlope, Units, dose) or an empty series: warned."""


class SuvRangeVerdict(StrEnum):
    """What :func:`suv_range_verdict` says about the SUV range of a series."""

    PLAUSIBLE = "plausible"
    IMPLAUSIBLY_LOW = "implausibly-low"
    IMPOSSIBLE = "impossible"


def suv_range_verdict(suv_max: float, suv_min: float) -> SuvRangeVerdict:
    """Judge a series' SUVbw maximum and minimum (g/mL) against physiology.

    ``IMPOSSIBLE`` when the maximum exceeds :data:`SUV_IMPOSSIBLE_ABOVE`, no value is above 0,
    or the minimum is below ``-SUV_IMPOSSIBLE_ABOVE`` (reconstructions allow small negative
    values, not these); ``IMPLAUSIBLY_LOW`` when the maximum is below
    :data:`SUV_IMPLAUSIBLE_MAX_BELOW`.

    Examples
    --------
    >>> suv_range_verdict(4.0, 0.0).value, suv_range_verdict(2.7e5, 0.0).value
    ('plausible', 'impossible')
    """
    if not (
        math.isfinite(suv_max)
        and math.isfinite(suv_min)
        and 0.0 < suv_max <= SUV_IMPOSSIBLE_ABOVE
        and suv_min >= -SUV_IMPOSSIBLE_ABOVE
    ):
        return SuvRangeVerdict.IMPOSSIBLE
    if suv_max < SUV_IMPLAUSIBLE_MAX_BELOW:
        return SuvRangeVerdict.IMPLAUSIBLY_LOW
    return SuvRangeVerdict.PLAUSIBLE


class DecayCorrection(StrEnum):
    """DecayCorrection (0054,1102) defined terms (DICOM PS3.3 C.8.9.1.1.4)."""

    START = "START"
    ADMIN = "ADMIN"
    NONE = "NONE"


class ReferenceMethod(StrEnum):
    """How the decay reference time of a series was chosen."""

    DECAY_CORRECTION_DATETIME = "decay-correction-datetime"
    SERIES_TIME = "series-datetime"
    GE_PRIVATE = "ge-private-scan-datetime"
    SIEMENS_PRIVATE = "siemens-private-decay-datetime"
    FRAME_BACK_COMPUTED = "frame-back-computed"
    EARLIEST_ACQUISITION = "earliest-acquisition-datetime"
    ADMINISTRATION = "administration"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceTime:
    """The decay reference time of a series, how it was chosen and why.

    Parameters
    ----------
    when
        The reference time (naive local time).
    method
        Which rule chose it.
    reason
        One sentence explaining the choice, for provenance.
    warnings
        Deviations the choice had to work around (empty on the happy path).
    """

    when: datetime
    method: ReferenceMethod
    reason: str
    warnings: tuple[str, ...] = ()


def _check_half_life(half_life_s: float) -> float:
    if not (math.isfinite(half_life_s) and half_life_s > 0):
        raise NotComputableError(f"Half-life must be a finite value > 0 s, not {half_life_s}.")
    return math.log(2.0) / half_life_s


def decay_factor(elapsed_s: float, *, half_life_s: float) -> float:
    """Fraction of activity remaining after ``elapsed_s`` seconds.

    Parameters
    ----------
    elapsed_s
        Time since the activity was measured, in s; may be negative.
    half_life_s
        Radionuclide half-life in s; finite and > 0.

    Notes
    -----
    A(t) / A(0) = 2 ** (-t / T½): physical decay, no biological clearance.

    Examples
    --------
    >>> decay_factor(4062.6, half_life_s=4062.6)
    0.5
    """
    _check_half_life(half_life_s)
    return float(2.0 ** (-elapsed_s / half_life_s))


def frame_decay_correction(duration_s: float, *, half_life_s: float) -> float:
    """Factor λT / (1 − e^(−λT)) that turns a frame's mean activity into its start activity.

    Parameters
    ----------
    duration_s
        Frame duration T in s (ActualFrameDuration (0018,1242) / 1000); 0 gives 1.
    half_life_s
        Half-life in s.

    Notes
    -----
    The mean of e^(−λt) over [0, T] is (1 − e^(−λT)) / (λT); QIBA SUV pseudo-code, DICOM PS3.3
    C.8.9.4.1.5 (Frame Reference Time).

    Examples
    --------
    >>> round(frame_decay_correction(300.0, half_life_s=6586.2), 6)
    1.015869
    """
    lam = _check_half_life(half_life_s)
    if not (math.isfinite(duration_s) and duration_s >= 0):
        raise NotComputableError(f"Frame duration must be finite and >= 0 s, not {duration_s}.")
    x = lam * duration_s
    if x < 1e-12:
        return 1.0
    return x / -math.expm1(-x)


def frame_average_offset_s(duration_s: float, *, half_life_s: float) -> float:
    """Time after the frame start at which the activity equals the frame-average activity.

    Notes
    -----
    T_ave = (1/λ) ln(λT / (1 − e^(−λT))) (QIBA SUV pseudo-code; suv-rules.md §4.2 step 4).
    Slightly less than T/2.

    Examples
    --------
    >>> round(frame_average_offset_s(600.0, half_life_s=6586.2), 3)
    298.421
    """
    lam = math.log(2.0) / half_life_s
    return math.log(frame_decay_correction(duration_s, half_life_s=half_life_s)) / lam


def back_computed_reference_times(
    acquisition: Sequence[datetime],
    frame_reference_s: Sequence[float],
    frame_duration_s: Sequence[float],
    *,
    half_life_s: float,
) -> list[datetime]:
    """Per-slice series reference time t_acq + T_ave − FrameReferenceTime (IBSI option B).

    Parameters
    ----------
    acquisition
        Each slice's AcquisitionDateTime (start of the frame).
    frame_reference_s
        Each slice's FrameReferenceTime (0054,1300) in s (the header holds ms).
    frame_duration_s
        Each slice's ActualFrameDuration (0018,1242) in s.
    half_life_s
        Half-life in s.

    Returns
    -------
    list of datetime
        One reference time per slice. They agree across slices only where the scanner wrote
        AcquisitionTime per bed (Siemens, IBSI DRO); on GE Discovery they spread by the bed
        offsets, which is why :func:`choose_reference_time` checks the spread.
    """
    out: list[datetime] = []
    for t_acq, frt, dur in zip(acquisition, frame_reference_s, frame_duration_s, strict=True):
        if not (0.0 < dur <= MAX_FRAME_TIME_S and abs(frt) <= MAX_FRAME_TIME_S):
            raise NotComputableError(
                f"FrameReferenceTime (0054,1300) {frt:g} s or ActualFrameDuration (0018,1242) "
                f"{dur:g} s is outside 0 to {MAX_FRAME_TIME_S:g} s, so no reference time can "
                "be back-computed from them."
            )
        offset = frame_average_offset_s(dur, half_life_s=half_life_s) - frt
        out.append(t_acq + timedelta(seconds=offset))
    return out


def resolve_injection_time(
    *,
    injection_datetime: datetime | None,
    injection_date_from_series: datetime | None,
    scan_datetime: datetime | None,
) -> tuple[datetime | None, str]:
    """Choose the administration time and say how it was obtained.

    Parameters
    ----------
    injection_datetime
        RadiopharmaceuticalStartDateTime (0018,1078), preferred when present.
    injection_date_from_series
        SeriesDate combined with RadiopharmaceuticalStartTime (0018,1072).
    scan_datetime
        The scan start (series or earliest acquisition time) used for the midnight check.

    Returns
    -------
    tuple
        The administration time (``None`` if neither input is given) and a sentence for
        provenance.

    Notes
    -----
    A time-only injection after the scan start crossed midnight: one day is subtracted
    (suv-rules.md §4.2; IBSI DRO_4_2). A time-only value cannot express multi-day protocols.

    Examples
    --------
    >>> t, how = resolve_injection_time(
    ...     injection_datetime=None,
    ...     injection_date_from_series=datetime(2025, 1, 2, 23, 30),
    ...     scan_datetime=datetime(2025, 1, 2, 0, 30),
    ... )
    >>> t
    datetime.datetime(2025, 1, 1, 23, 30)
    """
    if injection_datetime is not None:
        return injection_datetime, "RadiopharmaceuticalStartDateTime (0018,1078)"
    if injection_date_from_series is None:
        return None, "no injection time in the header"
    how = "SeriesDate + RadiopharmaceuticalStartTime (0018,1072)"
    if scan_datetime is not None and injection_date_from_series > scan_datetime:
        return (
            injection_date_from_series - timedelta(days=1),
            how + "; the time of day lies after the scan start, so the injection was taken "
            "to be on the previous day (midnight crossing)",
        )
    return injection_date_from_series, how


def _spread_s(times: Sequence[datetime]) -> float:
    return (max(times) - min(times)).total_seconds()


def _back_computed_choice(
    back: Sequence[datetime] | None,
    *,
    earliest: datetime | None,
    injection: datetime | None,
) -> datetime | None:
    """Return the mean back-computed time if it is consistent and plausible, else None."""
    if not back or _spread_s(back) > REFERENCE_SPREAD_TOL_S:
        return None
    mean = min(back) + (max(back) - min(back)) / 2
    if earliest is not None and mean > earliest:
        return None  # a START reference cannot lie after the first event of the series
    if injection is not None and mean <= injection:
        return None
    return mean


def _vendor_choice(
    why: str,
    *,
    ge_scan_datetime: datetime | None,
    siemens_decay_datetime: datetime | None,
    earliest: datetime | None,
    injection: datetime | None,
) -> ReferenceTime | None:
    """Return the first plausible vendor private reference time (QIBA step 2), else None."""
    candidates = (
        (ge_scan_datetime, ReferenceMethod.GE_PRIVATE, "GE private scan_datetime (0009,100D)"),
        (
            siemens_decay_datetime,
            ReferenceMethod.SIEMENS_PRIVATE,
            "Siemens private Decay Correction DateTime (0071,1022)",
        ),
    )
    tolerance = timedelta(seconds=REFERENCE_SPREAD_TOL_S)
    for when, method, name in candidates:
        if when is None:
            continue
        if (earliest is not None and when > earliest + tolerance) or (
            injection is not None and when <= injection
        ):
            continue  # implausible (e.g. a de-identification date shift): not used
        return ReferenceTime(when=when, method=method, reason=f"{why}; {name} used (QIBA step 2)")
    return None


def choose_reference_time(
    *,
    series_datetime: datetime | None,
    acquisition_datetimes: Sequence[datetime] | None,
    back_computed: Sequence[datetime] | None,
    ge_scan_datetime: datetime | None,
    injection_datetime: datetime | None,
    siemens_decay_datetime: datetime | None = None,
) -> ReferenceTime:
    """Decay reference time of a DecayCorrection START series (suv-rules.md §4.2).

    Parameters
    ----------
    series_datetime
        SeriesDate/SeriesTime (0008,0021)/(0008,0031).
    acquisition_datetimes
        Every slice's AcquisitionDateTime (or AcquisitionDate + AcquisitionTime).
    back_computed
        Per-slice :func:`back_computed_reference_times`, or ``None`` if the frame timing is
        incomplete.
    ge_scan_datetime
        GE private scan_datetime (0009,100D), creator ``GEMS_PETD_01``.
    injection_datetime
        Administration time, used only to reject implausible private or back-computed times.
    siemens_decay_datetime
        Siemens private Decay Correction DateTime (0071,1022), creator ``SIEMENS MED PT``.

    Returns
    -------
    ReferenceTime

    Raises
    ------
    NotComputableError
        If neither a series time nor an acquisition time is known.

    Notes
    -----
    The QIBA order, with the frame back-computation inserted before QIBA's last resort:

    1. SeriesDate/Time if it is not after the earliest acquisition (the happy path; GE
       Discovery writes AcquisitionTime = SeriesTime for every bed, so the back-computation
       would be wrong there by the bed offsets).
    2. Otherwise (a post-processed series) the GE private scan_datetime, then the Siemens
       private Decay Correction DateTime, each only if it lies after the injection and not
       after the earliest acquisition (de-identification can shift private dates).
    3. Otherwise the back-computed t_acq + T_ave − FrameReferenceTime if it agrees across all
       slices within :data:`REFERENCE_SPREAD_TOL_S`, lies after the injection and not after the
       earliest acquisition (IBSI DRO_3_2).
    4. Otherwise the earliest acquisition time, with a warning.

    Using the back-computation first (IBSI "option B") would break real headers where the
    acquisition time is the series start and FrameReferenceTime the bed offset (Philips and GE
    fixtures: their published SUV factors use the series time).
    """
    acq = list(acquisition_datetimes or [])
    earliest = min(acq) if acq else None
    back_mean = _back_computed_choice(
        back_computed, earliest=earliest, injection=injection_datetime
    )
    if series_datetime is not None and (earliest is None or series_datetime <= earliest):
        return ReferenceTime(
            when=series_datetime,
            method=ReferenceMethod.SERIES_TIME,
            reason="SeriesDate/SeriesTime is not after the earliest acquisition time "
            "(QIBA step 1)",
        )
    why = (
        "SeriesDate/SeriesTime is missing"
        if series_datetime is None
        else f"SeriesDate/SeriesTime {series_datetime.isoformat()} is after the earliest "
        f"acquisition {earliest.isoformat() if earliest else '?'} (post-processed series?)"
    )
    vendor = _vendor_choice(
        why,
        ge_scan_datetime=ge_scan_datetime,
        siemens_decay_datetime=siemens_decay_datetime,
        earliest=earliest,
        injection=injection_datetime,
    )
    if vendor is not None:
        return vendor
    if back_mean is not None:
        return ReferenceTime(
            when=back_mean,
            method=ReferenceMethod.FRAME_BACK_COMPUTED,
            reason=f"{why}; AcquisitionTime + frame-average time − FrameReferenceTime agrees "
            f"across all slices (spread ≤ {REFERENCE_SPREAD_TOL_S} s) and was used (IBSI)",
        )
    if earliest is not None:
        return ReferenceTime(
            when=earliest,
            method=ReferenceMethod.EARLIEST_ACQUISITION,
            reason=f"{why}; the earliest acquisition time of the series was used (QIBA step 3)",
            warnings=(
                f"Decay reference time: {why}; no GE private scan time and no consistent frame "
                "timing (ActualFrameDuration (0018,1242), FrameReferenceTime (0054,1300)), so "
                "the earliest AcquisitionTime was used (QIBA step 3). Check the SUV if the "
                "series was cropped or re-exported.",
            ),
        )
    raise NotComputableError(
        "Cannot choose the decay reference time: SeriesDate/SeriesTime (0008,0021)/(0008,0031) "
        "and AcquisitionDate/AcquisitionTime (0008,0022)/(0008,0032) are all missing."
    )


def none_slice_corrections(
    acquisition: Sequence[datetime],
    frame_duration_s: Sequence[float],
    *,
    injection_datetime: datetime,
    half_life_s: float,
) -> npt.NDArray[np.float64]:
    """Per-slice factors that decay-correct DecayCorrection NONE values to the injection time.

    Parameters
    ----------
    acquisition
        Each slice's AcquisitionDateTime (frame start).
    frame_duration_s
        Each slice's ActualFrameDuration in s.
    injection_datetime
        Administration time.
    half_life_s
        Half-life in s.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_slices,)``, float64: λT/(1 − e^(−λT)) · e^(λ (t_acq − t_adm)).

    Notes
    -----
    suv-rules.md §4.2 (NONE branch); IBSI DRO_3_4.
    """
    lam = _check_half_life(half_life_s)
    out = np.empty(len(acquisition), dtype=np.float64)
    for i, (t_acq, dur) in enumerate(zip(acquisition, frame_duration_s, strict=True)):
        elapsed = (t_acq - injection_datetime).total_seconds()
        if elapsed < 0:
            raise NotComputableError(
                f"Slice {i} was acquired {-elapsed:.0f} s before the injection "
                f"({injection_datetime.isoformat()}); check RadiopharmaceuticalStartDateTime "
                "or pass --injection-time."
            )
        out[i] = frame_decay_correction(dur, half_life_s=half_life_s) * math.exp(lam * elapsed)
    return out


def suv_factor(*, normaliser_kg: float, injected_activity_bq: float) -> float:
    """SUV factor in g/Bq for a normalising mass (body weight, LBM or IBW) in kg.

    Examples
    --------
    >>> suv_factor(normaliser_kg=70.0, injected_activity_bq=1e8)
    0.0007
    """
    if not (math.isfinite(injected_activity_bq) and injected_activity_bq > 0):
        raise NotComputableError(
            f"Injected activity must be a finite value > 0 Bq, not {injected_activity_bq}."
        )
    return normaliser_kg * G_PER_KG / injected_activity_bq


def suv_bw_factor(
    *,
    weight_kg: float,
    injected_activity_bq: float,
    injection_to_scan_s: float,
    half_life_s: float,
) -> float:
    """SUVbw factor in g/Bq: weight / dose decayed to the reference time.

    Parameters
    ----------
    weight_kg
        Body weight in kg.
    injected_activity_bq
        Activity at administration in Bq.
    injection_to_scan_s
        Time from administration to the decay reference time, in s (0 for ADMIN).
    half_life_s
        Half-life in s.

    Notes
    -----
    SUVbw = C [Bq/mL] · W [g] / (D · 2^(−Δt/T½)) (QIBA; DICOM PS3.3 C.8.9.1.1.8).

    Examples
    --------
    >>> round(suv_bw_factor(
    ...     weight_kg=70, injected_activity_bq=2e8, injection_to_scan_s=4062.6, half_life_s=4062.6
    ... ), 12)
    0.0007
    """
    if not (math.isfinite(weight_kg) and weight_kg > 0):
        raise NotComputableError(f"Body weight must be a finite value > 0 kg, not {weight_kg}.")
    decayed = injected_activity_bq * decay_factor(injection_to_scan_s, half_life_s=half_life_s)
    return suv_factor(normaliser_kg=weight_kg, injected_activity_bq=decayed)
