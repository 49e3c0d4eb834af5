"""Shared test data of the texture-family tests: the IBSI 1 digital phantom and its references.

The phantom (``shared/data/ibsi/ibsi_1_digital_phantom``) is read with nibabel here, in the
tests, never by the package. Reference values come from ``ibsi_1_dig_phantom.csv`` (MIRP tags
such as ``cm_joint_max_3D_avg``, values from the IBSI 1 reference manual); the tag of each
feature is paired with its IBSI code by the family's own order, and that pairing is checked
against the IBSI documentation table (``…_from_ibsi_doc.csv``), which lists the codes.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import numpy.typing as npt
import pytest

from nenscope.radiomics import Approach

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ibsi"
PHANTOM_DIR = DATA / "ibsi_1_digital_phantom" / "nifti"
REFERENCE_DIR = DATA / "ibsi_1_reference_values"

PHANTOM_N_LEVELS = 6
"""Grey levels 1..6 (2 and 5 absent); the phantom needs no discretisation (IBSI 1, 5.1)."""

PHANTOM_SPACING_MM = (2.0, 2.0, 2.0)

# MIRP tag suffix -> (approach, DESIGN.md key suffix, IBSI doc aggregation); longest first.
_AGGREGATIONS = (
    ("_2_5D_avg", Approach.D25, "_2.5D_dmrg", "2.5D, direction-merged"),
    ("_2_5D_comb", Approach.D25, "_2.5D_mrg", "2.5D, merged"),
    ("_2D_avg", Approach.D2, "_2D_avg", "2D, averaged"),
    ("_2D_comb", Approach.D2, "_2D_smrg", "2D, slice-merged"),
    ("_3D_avg", Approach.D3, "_3D_avg", "3D, averaged"),
    ("_3D_comb", Approach.D3, "_3D_mrg", "3D, merged"),
    ("_2_5D", Approach.D25, "_2.5D", "2.5D"),
    ("_2D", Approach.D2, "_2D", "2D"),
    ("_3D", Approach.D3, "_3D", "3D"),
)


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"Test data missing: {path} (see shared/data/ibsi/README.md).")
    return path


@functools.cache
def phantom_levels() -> npt.NDArray[np.int64]:
    """The digital phantom as ``(z, y, x)`` grey levels, 0 outside its mask (74 voxels)."""
    # nibabel's stubs type load() as FileBasedImage, which lacks dataobj; these are NIfTI-1.
    image: Any = nib.load(_require(PHANTOM_DIR / "image" / "phantom.nii.gz"))
    mask: Any = nib.load(_require(PHANTOM_DIR / "mask" / "mask.nii.gz"))
    # nibabel gives (x, y, z); the package works in (z, y, x).
    grey = np.asarray(image.dataobj).transpose(2, 1, 0)
    inside = np.asarray(mask.dataobj).transpose(2, 1, 0) > 0
    levels = np.where(inside, grey, 0).astype(np.int64)
    levels.setflags(write=False)
    return levels


@dataclass(frozen=True, slots=True)
class ReferenceRow:
    """One IBSI reference value of the digital phantom."""

    tag: str
    key: str
    code: str
    approach: Approach
    value: float
    tolerance: float
    doc_aggregation: str


def _split_tag(tag: str) -> tuple[str, tuple[Approach, str, str]]:
    for tag_suffix, approach, key_suffix, doc in _AGGREGATIONS:
        if tag.endswith(tag_suffix):
            return tag.removesuffix(tag_suffix), (approach, key_suffix, doc)
    raise ValueError(f"tag without aggregation suffix: {tag}")


@functools.cache
def phantom_reference(prefix: str, codes: tuple[str, ...]) -> tuple[ReferenceRow, ...]:
    """Reference rows of one family (MIRP tag prefix such as ``"cm_"``), keyed by ``codes``.

    ``codes`` lists the family's IBSI codes in the order in which the CSV lists its features
    (which is the IBSI manual's order).
    """
    path = _require(REFERENCE_DIR / "ibsi_1_dig_phantom.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter=";") if r["tag"].startswith(prefix)]
    bases: list[str] = []
    for row in rows:
        base, _ = _split_tag(row["tag"])
        if base not in bases:
            bases.append(base)
    if len(bases) != len(codes):
        raise ValueError(f"{prefix}: {len(bases)} features in the CSV, {len(codes)} codes given")
    code_of = dict(zip(bases, codes, strict=True))
    out = []
    for row in rows:
        if not row["reference value"]:
            continue
        base, (approach, key_suffix, doc) = _split_tag(row["tag"])
        out.append(
            ReferenceRow(
                tag=row["tag"],
                key=f"{code_of[base]}{key_suffix}",
                code=code_of[base],
                approach=approach,
                value=float(row["reference value"]),
                tolerance=float(row["tolerance"]),
                doc_aggregation=doc,
            )
        )
    return tuple(out)


@functools.cache
def ibsi_doc_values() -> dict[tuple[str, str], float]:
    """``(IBSI code, aggregation) -> value`` for the digital phantom in the IBSI doc table."""
    path = _require(REFERENCE_DIR / "ibsi_1_reference_values_from_ibsi_doc.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            (r["ibsi_code"], " ".join(r["aggregation"].split())): float(r["value"])
            for r in csv.DictReader(handle)
            if r["data_set"] == "dig. phantom" and r["value"]
        }


def round_3_significant(value: float) -> float:
    """IBSI/MIRP tolerance check: round the computed value to 3 significant digits first."""
    return float(f"{value:.3g}")


def tag_id(row: ReferenceRow) -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", f"{row.tag}-{row.key}")
