"""Physiological uptake patterns per tracer family, as data (pure).

Which organs show normal uptake depends on the tracer. :data:`PHYSIOLOGICAL_UPTAKE` lists them
per family (EANM/SNMMI procedure guidelines: Bozkurt et al., Eur J Nucl Med Mol Imaging
2017;44:1588 for SSTR; Boellaard et al., EJNMMI 2015;42:328 for FDG; Taïeb et al., EJNMMI
2019;46:2112 for 18F-DOPA and MIBG; exendin: Antwi et al., J Nucl Med 2015;56:1075).
:data:`MODELLED` says which of them the automatic rules of
:mod:`nenscope.segmentation.physiology` recognise; the others are named in the notes as
"not modelled" so that the reader knows uptake there may be listed as a candidate.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from nenscope.core.tracers import TracerTable, UptakePattern, match_tracer

__all__ = [
    "MASK_ORGANS",
    "MODELLED",
    "PHYSIOLOGICAL_UPTAKE",
    "TracerFamily",
    "not_modelled",
    "physiological_masks",
    "tracer_family",
]


TracerFamily = UptakePattern
"""The uptake pattern of a tracer (the name this module has always used): the enum of
:class:`nenscope.core.tracers.UptakePattern`, whose value each tracer entry of
``core/data/tracers.toml`` gives as ``pattern``."""


PHYSIOLOGICAL_UPTAKE: Mapping[TracerFamily, tuple[str, ...]] = {
    TracerFamily.SSTR: (
        "pituitary gland",
        "salivary glands",
        "thyroid",
        "spleen",
        "splenules",
        "adrenal glands",
        "uncinate process",
        "kidneys",
        "urinary tract",
        "liver",
        "bowel",
    ),
    TracerFamily.FDG: (
        "brain",
        "myocardium",
        "urinary tract",
        "kidneys",
        "liver",
        "bowel",
        "muscle",
        "brown fat",
        "Waldeyer's ring",
        "bone marrow",
    ),
    TracerFamily.DOPA: (
        "striatum",
        "biliary tract",
        "gallbladder",
        "pancreas",
        "kidneys",
        "urinary tract",
    ),
    TracerFamily.EXENDIN: ("kidneys", "urinary tract"),
    TracerFamily.MIBG: ("salivary glands", "myocardium", "liver", "adrenal glands"),
    TracerFamily.OTHER: (
        "salivary glands",
        "spleen",
        "adrenal glands",
        "kidneys",
        "urinary tract",
        "liver",
        "bowel",
    ),
}
"""Organs with normal uptake per tracer family."""

MODELLED: frozenset[str] = frozenset(
    {
        "brain",
        "myocardium",
        "kidneys",
        "urinary tract",
        "liver",
        "spleen",
        "adrenal glands",
        "pituitary gland",
        "salivary glands",
        "bowel",
        "pancreas",
    }
)
"""Organs the automatic rules recognise (by position, shape, CT or the anatomy masks)."""


def tracer_family(
    tracer: str, family: str = "other", *, table: TracerTable | None = None
) -> TracerFamily:
    """Uptake pattern of the tracer named in ``tracer``, else from the pipeline's family.

    The tracer is recognised by :func:`nenscope.core.tracers.match_tracer` (the tracer table);
    where the text names none (or tracers of different patterns), ``family`` (``sstr``,
    ``fdg``, ``other``: the pipeline's analysis family) decides.

    Examples
    --------
    >>> tracer_family("18F-DOPA")
    <UptakePattern.DOPA: 'dopa'>
    >>> tracer_family("Fluorodeoxyglucose")
    <UptakePattern.FDG: 'fdg'>
    >>> tracer_family("unknown", "sstr")
    <UptakePattern.SSTR: 'sstr'>
    """
    found = match_tracer(tracer, table=table)
    if found is not None and found.pattern is not None:
        return found.pattern
    try:
        return TracerFamily(family.lower())
    except ValueError:
        return TracerFamily.OTHER


def not_modelled(family: TracerFamily) -> tuple[str, ...]:
    """Organs with normal uptake on this tracer that no automatic rule recognises."""
    return tuple(o for o in PHYSIOLOGICAL_UPTAKE[family] if o not in MODELLED)


MASK_ORGANS: Mapping[str, str] = {
    "brain": "brain",
    "heart": "myocardium",
    "kidney_left": "kidneys",
    "kidney_right": "kidneys",
    "bladder": "urinary tract",
    "spleen": "spleen",
    "adrenal_left": "adrenal glands",
    "adrenal_right": "adrenal glands",
    "thyroid": "thyroid",
    "pancreas": "pancreas",
    "gallbladder": "gallbladder",
}
"""Organ-mask name (``--organs``) → the physiological organ of :data:`PHYSIOLOGICAL_UPTAKE`.

The bowel is not in this list: small-bowel primaries of NEN lie there, so bowel masks name
sites but never hide uptake."""


def physiological_masks(
    masks: Mapping[str, npt.NDArray[np.bool_]], family: TracerFamily
) -> dict[str, npt.NDArray[np.bool_]]:
    """Return the masks to exclude on this tracer, plus the liver (liver-adaptive zone)."""
    normal = PHYSIOLOGICAL_UPTAKE[family]
    out = {name: m for name, m in masks.items() if MASK_ORGANS.get(name) in normal}
    if "liver" in masks:
        out["liver"] = masks["liver"]
    return out
