"""Synonyms of the scenario vocabularies: the words clinicians type, mapped to canonical values.

The table is data (``data/synonyms.toml``, STYLE 1.4). :func:`resolve_term` accepts a
canonical value (any case), a synonym (``ileum`` → ``small-intestine``), or refuses with the
reason: an ambiguous word (``NEN`` may be a NET or a NEC) says what to give instead, and an
unknown word names the closest value *by meaning*, comparing with the synonyms too (``ilium``
is closest to the synonym ``ileum``, so the suggestion is ``small-intestine``).
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import TypeVar

from nenscope.core.errors import KnowledgeBaseError

__all__ = ["SynonymTable", "load_synonyms", "normalise_term", "resolve_term"]

E = TypeVar("E", bound=StrEnum)

_SUGGEST_CUTOFF = 0.5
"""difflib similarity from which an unknown word is given a "Did you mean" suggestion."""


def normalise_term(text: str) -> str:
    """Fold case and word separators the way the synonym table is written.

    Examples
    --------
    >>> normalise_term("  Small bowel ")
    'small-bowel'
    >>> normalise_term("MEN_1")
    'men-1'
    """
    return re.sub(r"[-\s_]+", "-", text.strip().lower()).strip("-")


@dataclass(frozen=True, slots=True, kw_only=True)
class SynonymTable:
    """Synonyms per vocabulary (``field → {normalised word: canonical value}``)."""

    version: str
    synonyms: Mapping[str, Mapping[str, str]]
    ambiguous: Mapping[str, Mapping[str, str]]


@functools.cache
def load_synonyms() -> SynonymTable:
    """Read the packaged synonym table (once per process; it is immutable data)."""
    text = resources.files("nenscope.knowledge").joinpath("data/synonyms.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    ambiguous = raw.pop("ambiguous", {})
    version = str(raw.pop("version", ""))
    for where, table in [*raw.items(), *ambiguous.items()]:
        for key in table:
            if normalise_term(key) != key:
                raise KnowledgeBaseError(
                    f"synonyms.toml [{where}]: key '{key}' must be written normalised as "
                    f"'{normalise_term(key)}' (lower case, words joined by '-')."
                )
    return SynonymTable(version=version, synonyms=raw, ambiguous=ambiguous)


def resolve_term(text: str, enum_type: type[E], *, table: str) -> tuple[E, str | None]:
    """Resolve a user's word in one vocabulary.

    Parameters
    ----------
    text
        The user's word.
    enum_type
        The vocabulary.
    table
        The synonym table of that vocabulary (the scenario field name, ``exam`` or
        ``prior_result``).

    Returns
    -------
    tuple
        The member, and ``"'ileum' read as 'small-intestine'"`` when a synonym was used
        (None for a canonical value).

    Raises
    ------
    ValueError
        With the reason: an ambiguous word, or an unknown one with the closest value by
        meaning. Callers wrap it in their own error naming the field.

    Examples
    --------
    >>> from nenscope.knowledge.vocab import PrimarySite
    >>> resolve_term("Ileum", PrimarySite, table="primary_site")
    (<PrimarySite.SMALL_INTESTINE: 'small-intestine'>, "'Ileum' read as 'small-intestine'")
    """
    members = {m.value.lower(): m for m in enum_type}
    word = normalise_term(text)
    if text.strip().lower() in members:
        return members[text.strip().lower()], None
    if word in members:
        return members[word], None
    synonyms = load_synonyms()
    canonical = synonyms.synonyms.get(table, {}).get(word)
    if canonical is not None:
        member = members[canonical.lower()]
        return member, f"'{text.strip()}' read as '{member.value}'"
    reason = synonyms.ambiguous.get(table, {}).get(word)
    if reason is not None:
        raise ValueError(f"'{text.strip()}' is ambiguous: {reason}")
    raise ValueError(f"unknown value '{text.strip()}'. {_suggest(word, enum_type, table)}")


def _suggest(word: str, enum_type: type[StrEnum], table: str) -> str:
    meaning = {m.value.lower(): m.value for m in enum_type}
    for synonym, canonical in load_synonyms().synonyms.get(table, {}).items():
        meaning.setdefault(synonym, canonical)
    close = difflib.get_close_matches(word, list(meaning), n=1, cutoff=_SUGGEST_CUTOFF)
    valid = ", ".join(sorted(m.value for m in enum_type))
    if not close:
        return f"Valid: {valid}."
    target = meaning[close[0]]
    via = "" if close[0] == target.lower() else f" ('{close[0]}')"
    return f"Did you mean '{target}'{via}? Valid: {valid}."
