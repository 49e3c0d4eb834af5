"""Radionuclides seen in PET/SPECT headers: nominal half-lives and name recognition (pure).

Used to check the header's RadionuclideHalfLife (0018,1075) against the radionuclide the
header names (suv-rules.md §4.4), and as a fallback when the half-life is missing.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from nenscope.core.enums import suggest
from nenscope.core.errors import TracerTableError
from nenscope.core.tracers import TracerTable, default_tracer_table

__all__ = [
    "HALF_LIFE_RTOL",
    "RADIONUCLIDES",
    "Radionuclide",
    "identify_radionuclide",
]

HALF_LIFE_RTOL = 0.02
"""Max relative difference between a header half-life and the nominal one of its nuclide.

Vendors write 6586.2 s (Siemens) or 6588 s (GE) for 18F and 4057.7 s for 68Ga (nominal
4062.6 s); 2 % accepts these and still separates every pair of nuclides in the table.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Radionuclide:
    """A radionuclide: label (e.g. ``"18F"``), element symbol, mass number, half-life in s."""

    label: str
    symbol: str
    element: str
    mass: str
    half_life_s: float


# Half-lives: NNDC/NuDat 3 (Laboratoire National Henri Becquerel tables agree to < 0.1 %).
RADIONUCLIDES: tuple[Radionuclide, ...] = (
    Radionuclide(label="11C", symbol="c", element="carbon", mass="11", half_life_s=1221.8),
    Radionuclide(label="13N", symbol="n", element="nitrogen", mass="13", half_life_s=597.9),
    Radionuclide(label="15O", symbol="o", element="oxygen", mass="15", half_life_s=122.24),
    Radionuclide(label="18F", symbol="f", element="fluorine", mass="18", half_life_s=6586.2),
    Radionuclide(label="44Sc", symbol="sc", element="scandium", mass="44", half_life_s=14292.0),
    Radionuclide(label="64Cu", symbol="cu", element="copper", mass="64", half_life_s=45720.0),
    Radionuclide(label="68Ga", symbol="ga", element="gallium", mass="68", half_life_s=4062.6),
    Radionuclide(label="68Ge", symbol="ge", element="germanium", mass="68", half_life_s=2.3410e7),
    Radionuclide(label="82Rb", symbol="rb", element="rubidium", mass="82", half_life_s=76.38),
    Radionuclide(label="86Y", symbol="y", element="yttrium", mass="86", half_life_s=53064.0),
    Radionuclide(label="89Zr", symbol="zr", element="zirconium", mass="89", half_life_s=282240.0),
    Radionuclide(label="90Y", symbol="y", element="yttrium", mass="90", half_life_s=230400.0),
    Radionuclide(
        label="99mTc", symbol="tc", element="technetium", mass="99m", half_life_s=21624.0
    ),
    Radionuclide(label="111In", symbol="in", element="indium", mass="111", half_life_s=242330.0),
    Radionuclide(label="123I", symbol="i", element="iodine", mass="123", half_life_s=47604.0),
    Radionuclide(label="124I", symbol="i", element="iodine", mass="124", half_life_s=360806.0),
    Radionuclide(label="131I", symbol="i", element="iodine", mass="131", half_life_s=693302.0),
    Radionuclide(label="177Lu", symbol="lu", element="lutetium", mass="177", half_life_s=574300.0),
    Radionuclide(label="201Tl", symbol="tl", element="thallium", mass="201", half_life_s=262800.0),
)


def _aliases(nuc: Radionuclide) -> set[str]:
    out = set()
    for name in (nuc.symbol, nuc.element):
        out.add(f"{nuc.mass}{name}")
        out.add(f"{name}{nuc.mass}")
    if nuc.mass.endswith("m"):  # "Tc99m", "99Tcm" spellings
        out.add(f"{nuc.symbol}{nuc.mass[:-1]}m")
        out.add(f"{nuc.mass[:-1]}{nuc.symbol}m")
    return out


def _candidates(text: str) -> set[str]:
    tokens = [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]
    pairs = {a + b for a, b in itertools.pairwise(tokens)}
    return set(tokens) | pairs


def identify_radionuclide(text: str, *, table: TracerTable | None = None) -> Radionuclide | None:
    """Recognise the radionuclide named in free text, or return ``None`` if unsure.

    Parameters
    ----------
    text
        A CodeMeaning of RadionuclideCodeSequence (0054,0300) such as ``"^18^Fluorine"`` or
        ``"177 Lutetium"``, or the Radiopharmaceutical (0018,0031) text (``"Ga68-PSMA"``).
    table
        Tracer table whose ``nuclide_names`` imply a nuclide (``"FDG"`` is 18F); default the
        packaged :mod:`nenscope.core.tracers` table.

    Returns
    -------
    Radionuclide or None
        ``None`` if no nuclide or more than one is named.

    Examples
    --------
    >>> identify_radionuclide("^18^Fluorine").label
    '18F'
    >>> identify_radionuclide("Ga68-PSMA").label
    '68Ga'
    >>> identify_radionuclide("177 Lutetium").label
    '177Lu'
    >>> identify_radionuclide("Tc-99m MDP").label
    '99mTc'
    >>> identify_radionuclide("DOTATATE") is None
    True
    """
    cands = _candidates(text)
    found = {nuc.label: nuc for nuc in RADIONUCLIDES if _aliases(nuc) & cands}
    aliases = (table or default_tracer_table()).nuclide_aliases()
    by_label = {nuc.label: nuc for nuc in RADIONUCLIDES}
    for alias, label in aliases.items():
        if alias in cands:
            if label not in by_label:
                raise TracerTableError(
                    f"The tracer table says '{alias}' implies radionuclide '{label}', which "
                    "is not in nenscope.quantification.radionuclides. "
                    f"{suggest(label, list(by_label))}"
                )
            found.setdefault(label, by_label[label])
    if len(found) != 1:
        return None
    return next(iter(found.values()))
