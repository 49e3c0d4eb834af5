"""Parsing of user-supplied option strings into closed vocabularies (STYLE 8.4)."""

from __future__ import annotations

import difflib
from enum import StrEnum
from typing import TypeVar

from nenscope.core.errors import OptionError

__all__ = ["Normalisation", "ReferenceKind", "parse_option", "suggest"]

E = TypeVar("E", bound=StrEnum)


class Normalisation(StrEnum):
    """SUV normalisation: body weight, lean body mass, body surface area, ideal body weight.

    One vocabulary for every layer: the SUV reader (:mod:`nenscope.dicom.pet`), the analysis
    options, the reports and the CLI (``--normalisation``); the values are those of the JSON
    outputs.
    """

    BW = "bw"
    LBM = "lbm"
    BSA = "bsa"
    IBW = "ibw"


class ReferenceKind(StrEnum):
    """Reference regions of SUV (PERCIST, Krenning): the keys of ``references`` everywhere."""

    LIVER = "liver"
    SPLEEN = "spleen"
    BLOOD_POOL = "blood_pool"


def suggest(value: str, valid: list[str] | tuple[str, ...]) -> str:
    """Return a sentence naming the closest valid value and listing all of them.

    Parameters
    ----------
    value
        The value the user gave.
    valid
        The accepted values.

    Examples
    --------
    >>> suggest("bw2", ["bw", "lbm", "bsa"])
    "Did you mean 'bw'? Valid: bsa, bw, lbm."
    """
    close = difflib.get_close_matches(value, list(valid), n=1, cutoff=0.5)
    hint = f"Did you mean '{close[0]}'? " if close else ""
    return f"{hint}Valid: {', '.join(sorted(valid))}."


def parse_option(value: str | E, enum_type: type[E], *, what: str = "") -> E:
    """Convert a user string to a member of ``enum_type``, or raise with the closest match.

    Matching is exact on the member value, then case-insensitive.

    Parameters
    ----------
    value
        The user's string (or already a member, returned unchanged).
    enum_type
        The ``StrEnum`` that defines the vocabulary.
    what
        Human name of the option, used in the error message (defaults to the enum's name).

    Raises
    ------
    OptionError
        If ``value`` is not a member; the message names the closest valid value.

    Examples
    --------
    >>> from enum import StrEnum
    >>> class Norm(StrEnum):
    ...     BW = "bw"
    ...     LBM = "lbm"
    >>> parse_option("BW", Norm)
    <Norm.BW: 'bw'>
    """
    if isinstance(value, enum_type):
        return value
    text = str(value).strip()
    members = {m.value: m for m in enum_type}
    if text in members:
        return members[text]
    lowered = {k.lower(): m for k, m in members.items()}
    if text.lower() in lowered:
        return lowered[text.lower()]
    label = what or enum_type.__name__
    raise OptionError(f"Unknown {label} '{text}'. {suggest(text, list(members))}")
