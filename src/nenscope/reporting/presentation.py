"""What a physician reads, derived from a :class:`~nenscope.reporting.model.Report` (pure).

The HTML and PDF renderers show the same report in the same order: a banner when the automatic
result is not trustworthy, the impression, the technique, the findings by body region, the
target lesions, then an appendix with every lesion, the physiological uptake, the reference
regions, the score definitions and the SUV provenance. This module computes that content once,
as a :class:`ReportView`, so that both renderers only lay it out.

Rules made here (each is named in the report where it matters):

- **Target lesions** (:func:`select_target_lesions`): at most
  :data:`~nenscope.reporting.model.MAX_TARGET_LESIONS`, the most relevant by uptake and size:
  lesions that are measurable (longest diameter ≥ :data:`MEASURABLE_DIAMETER_MM`, or volume
  ≥ :data:`MEASURABLE_VOLUME_ML` when no diameter is known) first, each group by SUVpeak
  (SUVmax where SUVpeak is not computable), ties by volume.
- **Scores show only where they apply**: Krenning, SSTR-RADS and PRRT eligibility on SSTR
  imaging only; nothing is printed as "not computable" for a tracer the score is not made for.
- **Names and dates for people**: DICOM person names (``"DOE^JOHN"``) and dates
  (``"20240131"``) are shown as ``"John Doe"`` and ``"31 Jan 2024"``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from nenscope.core.tracers import AnalysisFamily
from nenscope.reporting.model import (
    MAX_TARGET_LESIONS,
    REVIEW_MARKS,
    LesionEntry,
    Report,
    ScoreEntry,
)

__all__ = [
    "BODY_REGIONS",
    "MEASURABLE_DIAMETER_MM",
    "MEASURABLE_VOLUME_ML",
    "UNASSIGNED_REGION",
    "RegionFindings",
    "ReportView",
    "body_region",
    "build_view",
    "format_created",
    "format_dicom_date",
    "format_person_name",
    "krenning_applies",
    "review_legend",
    "select_target_lesions",
    "target_ids",
]

MEASURABLE_DIAMETER_MM = 10.0
"""Longest diameter from which a lesion counts as measurable (RECIST 1.1, Eisenhauer 2009)."""

MEASURABLE_VOLUME_ML = 0.52
"""Volume of a 10 mm sphere (π/6 × 1 cm³): measurable when no diameter is known."""

UNASSIGNED_REGION = "Site not determined"
"""Group of the lesions whose site the analysis could not name."""

BODY_REGIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Bone first: "iliac bone" is skeleton, "iliac node" pelvis.
    (
        "Skeleton",
        (
            "bone",
            "skelet",
            "vertebr",
            "spine",
            "spinal",
            "rib",
            "sternum",
            "femur",
            "humer",
            "pelvic bone",
            "sacrum",
            "marrow",
            "skull",
            "osseous",
        ),
    ),
    (
        "Head and neck",
        (
            "brain",
            "cerebr",
            "pituitar",
            "salivar",
            "parotid",
            "submandibular",
            "thyroid",
            "cervical",
            "neck",
            "waldeyer",
            "tonsil",
            "head and neck",
            "orbit",
            "nasophar",
        ),
    ),
    (
        "Thorax",
        (
            "lung",
            "pulmonar",
            "mediastin",
            "hilar",
            "hilum",
            "heart",
            "myocard",
            "breast",
            "axill",
            "thora",
            "pleura",
            "oesophag",
            "esophag",
            "supraclavicular",
            "thymus",
        ),
    ),
    (
        "Abdomen",
        (
            "liver",
            "hepat",
            "spleen",
            "splen",
            "pancrea",
            "uncinate",
            "adrenal",
            "kidney",
            "renal",
            "stomach",
            "gastr",
            "bowel",
            "intestin",
            "duoden",
            "jejun",
            "ileum",
            "ileal",
            "colon",
            "mesenter",
            "peritone",
            "retroperit",
            "abdom",
            "gallbladder",
            "biliary",
            "para-aortic",
            "paraaortic",
            "coeliac",
            "celiac",
            "ureter",
        ),
    ),
    (
        "Pelvis",
        ("bladder", "pelvi", "prostat", "uter", "ovar", "rect", "iliac", "inguinal", "sigmoid"),
    ),
    (
        "Extremities",
        ("limb", "arm", "leg", "thigh", "extremit", "hand", "foot", "knee", "muscle", "gluteal"),
    ),
)
"""Body regions of the findings, in report order, with the site words that map to each."""

REGION_LISTED = 3
"""Lesions itemised under a body region that holds no target lesion (the hottest)."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_dicom_date(value: str) -> str:
    """Format a DICOM DA value (``YYYYMMDD``) as ``"31 Jan 2024"``; anything else as is.

    Examples
    --------
    >>> format_dicom_date("20240131")
    '31 Jan 2024'
    >>> format_dicom_date("")
    'date not recorded'
    >>> format_dicom_date("2024-01-31")
    '31 Jan 2024'
    >>> format_dicom_date("20241345")
    '20241345'
    """
    text = value.strip()
    if not text:
        return "date not recorded"
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text)
    if match is None:
        return text
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return text
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_created(when: datetime | None) -> str:
    """Format a report's creation time for people (``"7 Dec 2026, 18:20 UTC"``).

    Examples
    --------
    >>> from datetime import UTC
    >>> format_created(datetime(2026, 1, 2, 3, 4, 59, tzinfo=UTC))
    '2 Jan 2026, 03:04 UTC'
    """
    if when is None:
        return "time not recorded"
    return f"{when.day} {_MONTHS[when.month - 1]} {when.year}, {when:%H:%M} {when.tzname()}"


def _name_part(text: str) -> str:
    """Title-case a name part written in capitals only (``"O'BRIEN"`` → ``"O'Brien"``)."""
    if not re.fullmatch(r"[A-Z][A-Z '\-.]*", text):
        return text  # mixed case, digits or codes (anonymised ids) are kept as written
    return re.sub(r"[A-Za-z]+", lambda m: m[0].capitalize(), text.lower())


def _patient_line(name: str, patient_id: str) -> str:
    """Return the patient's name and ID; the ID alone when the name is the ID (de-identified).

    Examples
    --------
    >>> _patient_line("DOE^JOHN", "123")
    'John Doe (ID 123)'
    >>> _patient_line("ACRIN-042", "ACRIN-042")
    'ID ACRIN-042'
    """
    person = format_person_name(name)
    if patient_id and person.casefold() == patient_id.strip().casefold():
        return f"ID {patient_id}"
    return f"{person} (ID {patient_id})"


def format_person_name(value: str) -> str:
    """Format a DICOM PN value as a name: ``"DOE^JOHN^A^DR^JR"`` → ``"Dr John A Doe Jr"``.

    Components (family^given^middle^prefix^suffix, DICOM PS3.5 §6.2) are put in reading
    order; only the first (alphabetic) representation is used. Parts written in capitals are
    title-cased; mixed-case parts and codes (``"STS_001"``) are kept as written.

    Examples
    --------
    >>> format_person_name("DOE^JOHN")
    'John Doe'
    >>> format_person_name("DOE^JOHN^A^DR^JR")
    'Dr John A Doe Jr'
    >>> format_person_name("STS_001")
    'STS_001'
    >>> format_person_name("")
    'name not recorded'
    """
    alphabetic = value.split("=", 1)[0].strip()
    if not alphabetic:
        return "name not recorded"
    parts = [p.strip() for p in alphabetic.split("^")] + [""] * 5
    family, given, middle, prefix, suffix = (_name_part(p) for p in parts[:5])
    words = [prefix, given, middle, family, suffix]
    return " ".join(w for w in words if w) or "name not recorded"


def _ranking_value(lesion: LesionEntry) -> float:
    peak = lesion.quantities["suvpeak"].value
    if peak is not None:
        return peak
    return lesion.value("suvmax") or 0.0


def _is_measurable(lesion: LesionEntry) -> bool:
    diameter = lesion.quantities.get("longest_diameter_mm")
    if diameter is not None and diameter.value is not None:
        return diameter.value >= MEASURABLE_DIAMETER_MM
    return (lesion.value("volume_ml") or 0.0) >= MEASURABLE_VOLUME_ML


def select_target_lesions(
    lesions: Sequence[LesionEntry], *, max_n: int = MAX_TARGET_LESIONS
) -> tuple[int, ...]:
    """Ids of the target lesions: measurable first, each group by uptake, ties by volume.

    Parameters
    ----------
    lesions
        The reported lesions.
    max_n
        Most targets to choose.

    Returns
    -------
    tuple of int
        Lesion ids, most relevant first.

    Notes
    -----
    Uptake is SUVpeak (PERCIST 1.0 ranks lesions by it; Wahl et al., J Nucl Med 2009;50:122S),
    SUVmax where SUVpeak is not computable; "measurable" is a longest diameter ≥ 10 mm
    (RECIST 1.1) or, without a diameter, a volume ≥ that of a 10 mm sphere.

    Examples
    --------
    >>> from nenscope.reporting.model import Quantity
    >>> def les(i, suv, ml):
    ...     q = {k: Quantity(value=suv, unit="g/mL", method="m") for k in
    ...          ("suvmax", "suvpeak", "suvmean")}
    ...     q |= {"volume_ml": Quantity(value=ml, unit="mL", method="m"),
    ...           "tlg": Quantity(value=suv * ml, unit="g", method="m")}
    ...     return LesionEntry(id=i, centroid_mm=(0, 0, 0), quantities=q, detection="d")
    >>> select_target_lesions([les(1, 5.0, 0.1), les(2, 3.0, 4.0), les(3, 8.0, 2.0)])
    (3, 2, 1)
    """
    ranked = sorted(
        lesions,
        key=lambda les: (
            not _is_measurable(les),
            -_ranking_value(les),
            -(les.value("volume_ml") or 0.0),
            les.id,
        ),
    )
    return tuple(les.id for les in ranked[:max_n])


def target_ids(report: Report) -> tuple[int, ...]:
    """Return the target lesion ids (the report's own, or :func:`select_target_lesions`)."""
    if report.target_ids is not None:
        return report.target_ids
    return select_target_lesions(report.lesions)


def body_region(lesion: LesionEntry) -> str:
    """Body region a lesion is reported under: its own, else from its site's words.

    Examples
    --------
    >>> from nenscope.reporting.model import Quantity
    >>> q = {k: Quantity(value=1.0, unit="u", method="m") for k in
    ...      ("volume_ml", "suvmax", "suvpeak", "suvmean", "tlg")}
    >>> body_region(LesionEntry(id=1, centroid_mm=(0, 0, 0), quantities=q, detection="d",
    ...                         site="liver segment VII"))
    'Abdomen'
    >>> body_region(LesionEntry(id=1, centroid_mm=(0, 0, 0), quantities=q, detection="d"))
    'Site not determined'
    """
    if lesion.body_region:
        return lesion.body_region
    site = (lesion.site or "").lower()
    if site:
        for region, words in BODY_REGIONS:
            if any(re.search(rf"\b{re.escape(w)}", site) for w in words):
                return region
    return UNASSIGNED_REGION


def krenning_applies(report: Report) -> bool:
    """Whether Krenning / SSTR-RADS / PRRT belong in this report (SSTR imaging)."""
    if report.header is not None and report.header.tracer_family:
        return report.header.tracer_family == AnalysisFamily.SSTR
    return any(les.krenning is not None or les.sstr_rads for les in report.lesions)


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionFindings:
    """The findings of one body region: lesions (targets marked) and physiological uptake."""

    region: str
    lesions: tuple[LesionEntry, ...]
    sentence: str
    listed: tuple[LesionEntry, ...] = ()
    """The lesions itemised under the region: its targets, or its hottest few without any."""
    n_more: int = 0
    """Further lesions of the region, listed in the appendix only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportView:
    """Everything the renderers lay out, in reading order (module docstring).

    Parameters
    ----------
    patient
        Patient name and id, formatted for people.
    study_date
        Study date formatted for people.
    banner
        "Analysis not trustworthy" lines (empty when the result is plausible).
    impression
        Impression sentences, key findings first.
    technique
        ``(label, text)`` rows: tracer, activity, uptake time, scanner, CT coverage, …
    regions
        Findings by body region, in :data:`BODY_REGIONS` order.
    targets
        Target lesions, most relevant first.
    show_krenning
        Whether the Krenning / SSTR-RADS columns apply (SSTR imaging).
    applicable_scores
        Scores that apply to this study (Krenning hidden on non-SSTR tracers).
    lesion_word
        ``"candidate"`` when the result is flagged as implausible, else ``"lesion"``.
    physiological
        Physiological uptake summarised per organ (count, highest SUVmax, volume).
    """

    patient: str
    study_date: str
    banner: tuple[str, ...]
    impression: tuple[str, ...]
    technique: tuple[tuple[str, str], ...]
    regions: tuple[RegionFindings, ...]
    targets: tuple[LesionEntry, ...]
    show_krenning: bool
    applicable_scores: tuple[ScoreEntry, ...] = field(default=())
    lesion_word: str = "lesion"
    physiological: tuple[str, ...] = ()


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def _lesion_phrase(lesion: LesionEntry) -> str:
    site = f" ({lesion.site})" if lesion.site else ""
    volume = lesion.quantities["volume_ml"]
    return (
        f"#{lesion.id}{site}: SUVmax {_fmt(lesion.value('suvmax'))}, "
        f"{_fmt(volume.value)} {volume.unit}"
    )


def _applicable_scores(report: Report, sstr: bool) -> tuple[ScoreEntry, ...]:
    sstr_only = ("krenning", "sstr-rads")
    return tuple(
        s for s in report.scores if sstr or not any(w in s.name.lower() for w in sstr_only)
    )


def _key_findings(report: Report, targets: Sequence[LesionEntry], word: str) -> list[str]:
    lesions = report.lesions
    if not report.lesion_search_run:
        return [
            "No lesion search was run (automatic detection off, no seed point or mask): "
            "this report says nothing about lesions."
        ]
    if not lesions:
        return [f"No {word} was found with the chosen settings."]
    total = sum(les.value("volume_ml") or 0.0 for les in lesions)
    lines = [
        f"{len(lesions)} {word}{'s' if len(lesions) != 1 else ''} "
        f"(total volume {total:.1f} mL); {len(targets)} target "
        f"{word}{'s' if len(targets) != 1 else ''} tabled below."
    ]
    lines.append("Most relevant: " + "; ".join(_lesion_phrase(t) for t in targets[:3]) + ".")
    regions: dict[str, int] = {}
    for les in lesions:
        region = body_region(les)
        regions[region] = regions.get(region, 0) + 1
    if set(regions) != {UNASSIGNED_REGION}:
        lines.append("By region: " + ", ".join(f"{name} {n}" for name, n in regions.items()) + ".")
    return lines


def _grades(lesion: LesionEntry) -> str:
    parts = []
    if lesion.krenning is not None:
        parts.append(f"Krenning {lesion.krenning}")
    if lesion.sstr_rads:
        rads = lesion.sstr_rads
        parts.append(rads if rads.upper().startswith("SSTR-RADS") else f"SSTR-RADS-{rads}")
    return f"#{lesion.id} " + ", ".join(parts)


def _score_lines(report: Report, targets: Sequence[LesionEntry], sstr: bool) -> list[str]:
    lines = []
    for score in _applicable_scores(report, sstr):
        if score.name.lower().startswith("whole-body tumour burden"):
            continue
        lines.append(f"{score.name}: {score.value}.")
    if sstr:
        graded = [_grades(t) for t in targets if t.krenning is not None or t.sstr_rads]
        if graded:
            lines.append("Krenning / SSTR-RADS of the targets: " + "; ".join(graded) + ".")
        if report.prrt:
            lines.append(f"PRRT: {report.prrt}")
    return lines


def _comparison_lines(report: Report) -> list[str]:
    if not report.response:
        return ["Comparison: no prior study was compared."]
    return [
        f"Comparison ({r.criterion}): {r.category}; change {r.change_percent.text(3)} "
        f"(baseline {r.baseline.text(4)}, follow-up {r.followup.text(4)})."
        for r in report.response
    ]


def _banner(report: Report) -> tuple[str, ...]:
    if not report.implausible:
        return ()
    return (
        "Analysis not trustworthy: the automatic result is implausible, so its lesion count "
        "and volumes are candidates to check on the images, not findings.",
        *report.implausible,
    )


def _technique(report: Report) -> tuple[tuple[str, str], ...]:
    h = report.header
    if h is None:
        return (("Study", "could not be read"),)
    scanner = " ".join(p for p in (h.manufacturer, h.scanner_model) if p) or "not recorded"
    rows = [
        ("Tracer", h.tracer),
        ("Injected activity", h.injected_activity.text(4)),
        ("Uptake time", h.uptake_time.text(3)),
        ("Body weight", h.weight.text(3)),
        ("Scanner", scanner),
        ("CT", h.ct_coverage or ("no CT: PET only" if h.ct_series_uid is None else "present")),
    ]
    if report.suv:
        rows.append(("SUV", report.suv[0]))
    if report.anatomy:
        rows.append(
            (
                "Anatomy",
                "; ".join(f"{region}: {source}" for region, source in report.anatomy),
            )
        )
    return tuple(rows)


def _regions(report: Report, targets: set[int], word: str) -> tuple[RegionFindings, ...]:
    grouped: dict[str, list[LesionEntry]] = {}
    for les in report.lesions:
        grouped.setdefault(body_region(les), []).append(les)
    order = [name for name, _ in BODY_REGIONS] + [UNASSIGNED_REGION]
    order += sorted(set(grouped) - set(order))
    out = []
    for region in order:
        if region not in grouped:
            continue
        items = tuple(grouped[region])
        hottest = max(items, key=lambda les: les.value("suvmax") or 0.0)
        volume = sum(les.value("volume_ml") or 0.0 for les in items)
        n_targets = sum(1 for les in items if les.id in targets)
        sentence = (
            f"{len(items)} {word}{'s' if len(items) != 1 else ''} ({n_targets} target), "
            f"{volume:.1f} mL in all; highest uptake {_lesion_phrase(hottest)}."
        )
        listed = tuple(les for les in items if les.id in targets)
        if not listed:
            listed = tuple(
                sorted(items, key=lambda les: -(les.value("suvmax") or 0.0))[:REGION_LISTED]
            )
        out.append(
            RegionFindings(
                region=region,
                lesions=items,
                sentence=sentence,
                listed=listed,
                n_more=len(items) - len(listed),
            )
        )
    return tuple(out)


def _physiological_summary(report: Report) -> tuple[str, ...]:
    by_organ: dict[str, list[float]] = {}
    volumes: dict[str, float] = {}
    for p in report.physiological:
        by_organ.setdefault(p.organ, []).append(p.suvmax)
        volumes[p.organ] = volumes.get(p.organ, 0.0) + p.volume_ml
    return tuple(
        f"{organ}: {len(values)} {'focus' if len(values) == 1 else 'foci'}, SUVmax up to "
        f"{max(values):.1f}, {volumes[organ]:.1f} mL"
        for organ, values in by_organ.items()
    )


def build_view(report: Report) -> ReportView:
    """Compute what the HTML and PDF reports show, in their order (module docstring).

    Examples
    --------
    >>> view = build_view(Report(title="t", header=None))
    >>> view.impression[0]
    'No lesion was found with the chosen settings.'
    """
    ids = target_ids(report)
    by_id = {les.id: les for les in report.lesions}
    targets = tuple(by_id[i] for i in ids)
    sstr = krenning_applies(report)
    word = "candidate" if report.implausible else "lesion"
    impression = []
    if report.implausible:
        impression.append(
            "The automatic analysis is not trustworthy (see the banner): read the images; "
            "the candidates below are not findings."
        )
    impression += _key_findings(report, targets, word)
    impression += _score_lines(report, targets, sstr)
    impression += _comparison_lines(report)
    if report.errors:
        impression.append(f"Incomplete analysis: {len(report.errors)} step(s) failed (below).")
    h = report.header
    return ReportView(
        patient="" if h is None else _patient_line(h.patient_name, h.patient_id),
        study_date="" if h is None else format_dicom_date(h.study_date),
        banner=_banner(report),
        impression=tuple(impression),
        technique=_technique(report),
        regions=_regions(report, set(ids), word),
        targets=targets,
        show_krenning=sstr,
        applicable_scores=_applicable_scores(report, sstr),
        lesion_word=word,
        physiological=_physiological_summary(report),
    )


def review_legend(lesions: Sequence[LesionEntry]) -> str | None:
    """Legend of the reader-decision marks of a reviewed result's lesion tables.

    ``None`` when no lesion carries a review (an automatic analysis: no mark column). The
    legend names the readers of each decision, e.g. ``"Review: ✓ confirmed by the reader
    (doc); + added by the reader (doc); ? automatic candidate, not reviewed (counted)."``
    """
    reviews = [les.review for les in lesions if les.review is not None]
    if not reviews:
        return None
    texts = {
        "confirmed": "confirmed by the reader",
        "added": "added by the reader",
        "candidate": "automatic candidate, not reviewed (counted)",
    }
    parts = []
    for kind, text in texts.items():
        readers = sorted({r.by for r in reviews if r.kind == kind and r.by})
        who = f" ({', '.join(readers)})" if readers else ""
        parts.append(f"{REVIEW_MARKS[kind]} {text}{who}")
    return "Review: " + "; ".join(parts) + "."
