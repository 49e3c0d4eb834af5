"""The tracer table: one entry per tracer, read by every layer that names a tracer (issue 9).

``core/data/tracers.toml`` holds, per tracer, its display name, radionuclide, target family,
physiological-uptake pattern and the words that name it in DICOM text. This module parses it
once into frozen :class:`Tracer` entries and recognises tracers in free text
(:func:`match_tracer`). Callers: :mod:`nenscope.quantification.radionuclides` (a name that
implies its nuclide), :mod:`nenscope.segmentation.patterns` (uptake pattern),
:mod:`nenscope.dicom.seg_sr` (tracer detection in headers), :mod:`nenscope.pipeline.study`
(analysis family), the phantom and the knowledge base (ids and names).

Every function takes an optional ``table`` (:func:`load_tracer_table` of another file), so a
test or a site can add a tracer without editing the package.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from nenscope.core.enums import suggest
from nenscope.core.errors import TracerTableError

__all__ = [
    "AnalysisFamily",
    "Tracer",
    "TracerFamily",
    "TracerMatch",
    "TracerTable",
    "UptakePattern",
    "default_tracer_table",
    "load_tracer_table",
    "match_tracer",
    "parse_tracer_table",
]


class TracerFamily(StrEnum):
    """What a tracer binds or traces (its target family)."""

    SSTR_AGONIST = "sstr-agonist"
    SSTR_ANTAGONIST = "sstr-antagonist"
    SSTR = "sstr"
    """SSTR ligand whose binding the text does not say (a header naming only "DOTA")."""
    FDG = "fdg"
    DOPA = "dopa"
    GLP1R = "glp1r"
    MIBG = "mibg"
    BONE = "bone"
    FAPI = "fapi"
    CXCR4 = "cxcr4"
    CCK2R = "cck2r"
    AMINO_ACID = "amino-acid"
    OTHER = "other"


class UptakePattern(StrEnum):
    """Physiological-uptake pattern of a tracer (:mod:`nenscope.segmentation.patterns`)."""

    SSTR = "sstr"
    FDG = "fdg"
    DOPA = "dopa"
    EXENDIN = "exendin"
    MIBG = "mibg"
    OTHER = "other"


class AnalysisFamily(StrEnum):
    """Family that selects the pipeline's scores: SSTR (Krenning, SSTR-RADS), FDG, other.

    The value of ``--tracer`` (besides ``auto``) and of ``tracer_family`` in report.json.
    """

    SSTR = "sstr"
    FDG = "fdg"
    OTHER = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tracer:
    """One tracer of the table (see ``core/data/tracers.toml`` for the fields)."""

    id: str
    name: str
    radionuclide: str
    """A label of ``quantification.radionuclides.RADIONUCLIDES``; ``""``: unspecified."""
    family: TracerFamily
    pattern: UptakePattern
    names: tuple[str, ...]
    nuclide_names: tuple[str, ...] = ()

    @property
    def analysis_family(self) -> AnalysisFamily:
        """The pipeline's family: the uptake pattern where it is SSTR or FDG, else other."""
        if self.pattern is UptakePattern.SSTR:
            return AnalysisFamily.SSTR
        if self.pattern is UptakePattern.FDG:
            return AnalysisFamily.FDG
        return AnalysisFamily.OTHER


@dataclass(frozen=True, slots=True, kw_only=True)
class TracerTable:
    """The parsed tracer table, entries in file order."""

    version: str
    tracers: tuple[Tracer, ...]

    def __getitem__(self, tracer_id: str) -> Tracer:
        for tracer in self.tracers:
            if tracer.id == tracer_id:
                return tracer
        raise TracerTableError(
            f"Unknown tracer id '{tracer_id}'. {suggest(tracer_id, [t.id for t in self.tracers])}"
        )

    def __contains__(self, tracer_id: object) -> bool:
        return any(t.id == tracer_id for t in self.tracers)

    @property
    def ids(self) -> tuple[str, ...]:
        """Tracer ids in file order."""
        return tuple(t.id for t in self.tracers)

    def nuclide_aliases(self) -> dict[str, str]:
        """Word → radionuclide label, for the words that by themselves imply the nuclide."""
        return {word: t.radionuclide for t in self.tracers for word in t.nuclide_names}


@dataclass(frozen=True, slots=True, kw_only=True)
class TracerMatch:
    """Tracers a text names: the best candidates (one, or several that the text cannot tell apart).

    ``tracer`` is the one tracer where the text identifies it, else ``None``; ``pattern`` and
    ``family`` are set where every candidate agrees (``"DOTATATE"`` alone: 68Ga or 64Cu, both
    SSTR agonists).
    """

    candidates: tuple[Tracer, ...]
    word: str

    @property
    def tracer(self) -> Tracer | None:
        """The tracer, where the text names exactly one."""
        return self.candidates[0] if len(self.candidates) == 1 else None

    @property
    def pattern(self) -> UptakePattern | None:
        """The uptake pattern shared by every candidate, else ``None``."""
        found = {t.pattern for t in self.candidates}
        return found.pop() if len(found) == 1 else None

    @property
    def family(self) -> TracerFamily | None:
        """The target family shared by every candidate, else ``None``."""
        found = {t.family for t in self.candidates}
        return found.pop() if len(found) == 1 else None

    @property
    def analysis_family(self) -> AnalysisFamily | None:
        """The analysis family shared by every candidate, else ``None``."""
        found = {t.analysis_family for t in self.candidates}
        return found.pop() if len(found) == 1 else None


def _words(where: str, raw: Any, field: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(w, str) and w for w in raw):
        raise TracerTableError(f"{where}: '{field}' must be a list of non-empty strings.")
    lowered = tuple(w.lower() for w in raw)
    if lowered != tuple(raw):
        raise TracerTableError(f"{where}: '{field}' must be lower case, got {raw}.")
    return lowered


def _enum(where: str, enum_type: type[TracerFamily | UptakePattern], raw: Any, field: str) -> Any:
    try:
        return enum_type(str(raw))
    except ValueError as err:
        raise TracerTableError(
            f"{where}: unknown {field} '{raw}'. {suggest(str(raw), [e.value for e in enum_type])}"
        ) from err


_FIELDS = frozenset({"name", "radionuclide", "family", "pattern", "names", "nuclide_names"})


def _parse_entry(tid: str, raw: Mapping[str, Any], source: str) -> Tracer:
    where = f"{source} [tracer.{tid}]"
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise TracerTableError(f"{where}: unknown field(s) {unknown}. Valid: {sorted(_FIELDS)}.")
    missing = [f for f in ("name", "radionuclide", "family", "pattern", "names") if f not in raw]
    if missing:
        raise TracerTableError(f"{where}: missing field(s) {missing}.")
    names = _words(where, raw["names"], "names")
    if not names:
        raise TracerTableError(f"{where}: 'names' is empty; give the words that name it.")
    nuclide_names = _words(where, raw.get("nuclide_names"), "nuclide_names")
    if nuclide_names and not raw["radionuclide"]:
        raise TracerTableError(f"{where}: nuclide_names needs a radionuclide.")
    return Tracer(
        id=tid,
        name=str(raw["name"]),
        radionuclide=str(raw["radionuclide"]),
        family=_enum(where, TracerFamily, raw["family"], "family"),
        pattern=_enum(where, UptakePattern, raw["pattern"], "pattern"),
        names=names,
        nuclide_names=nuclide_names,
    )


def parse_tracer_table(
    document: Mapping[str, Any], *, source: str = "tracers.toml"
) -> TracerTable:
    """Build and validate the tracer table from a decoded TOML document.

    Parameters
    ----------
    document
        The decoded ``tracers.toml``: ``version`` and one ``[tracer.<id>]`` table per tracer.
    source
        File name used in error messages.

    Raises
    ------
    TracerTableError
        For a missing or unknown field, an unknown family or pattern, or a word given to two
        tracers of one radionuclide (the text could never tell them apart); the message names
        the file and the entry.
    """
    entries = document.get("tracer")
    if not isinstance(entries, Mapping) or not entries:
        raise TracerTableError(f"{source}: no [tracer.<id>] entry.")
    tracers = tuple(_parse_entry(tid, raw, source) for tid, raw in entries.items())
    seen: dict[tuple[str, str], str] = {}
    for t in tracers:
        for word in t.names:
            other = seen.setdefault((word, t.radionuclide), t.id)
            if other != t.id:
                raise TracerTableError(
                    f"{source}: the word '{word}' names both [tracer.{other}] and "
                    f"[tracer.{t.id}] of radionuclide '{t.radionuclide}'; a header could not "
                    "tell them apart. Keep it in one entry."
                )
    return TracerTable(version=str(document.get("version", "unversioned")), tracers=tracers)


def load_tracer_table(path: Path | None = None) -> TracerTable:
    """Read a tracer table: the packaged ``core/data/tracers.toml``, or ``path``.

    Raises
    ------
    TracerTableError
        If the file is not valid TOML or an entry is invalid.
    """
    if path is None:
        text = (resources.files("nenscope.core") / "data" / "tracers.toml").read_text("utf-8")
        source = "core/data/tracers.toml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        source = str(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise TracerTableError(f"{source} is not valid TOML: {err}") from err
    return parse_tracer_table(document, source=source)


@functools.cache
def default_tracer_table() -> TracerTable:
    """Return the packaged tracer table, parsed once per process (immutable).

    Examples
    --------
    >>> default_tracer_table()["ga68-dotatate"].radionuclide
    '68Ga'
    """
    return load_tracer_table()


def _contains(text: str, word: str, *, whole_words: bool) -> bool:
    if not whole_words:
        return word in text
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None


def match_tracer(
    text: str,
    *,
    radionuclide: str | None = None,
    table: TracerTable | None = None,
    whole_words: bool = False,
) -> TracerMatch | None:
    """Recognise the tracer named in free text, or return ``None`` when no word matches.

    Parameters
    ----------
    text
        Radiopharmaceutical (0018,0031), the code meaning of RadiopharmaceuticalCodeSequence
        (0054,0304), a SeriesDescription (0008,103E) or a user's words.
    radionuclide
        The radionuclide label the header names, if known (``"64Cu"``); it settles a tie
        between tracers of different nuclides named by the same word.
    table
        Tracer table; default the packaged one.
    whole_words
        Match a word only where it stands alone (not inside a longer word): for free text such
        as a SeriesDescription, where "protocol" must not read as "toc".

    Notes
    -----
    Words match as case-insensitive substrings; the longest matching word wins, a tie goes
    to the entry listed first in the table, except that tracers of one word but different
    radionuclides stay candidates together unless ``radionuclide`` picks one.

    Examples
    --------
    >>> match_tracer("Ga-68 DOTATATE", radionuclide="68Ga").tracer.id
    'ga68-dotatate'
    >>> m = match_tracer("DOTATATE")
    >>> m.tracer is None, m.analysis_family.value
    (True, 'sstr')
    >>> match_tracer("68Ga-DOTA-exendin-4").pattern.value
    'exendin'
    >>> match_tracer("Choline") is None
    True
    """
    table = table or default_tracer_table()
    lowered = text.lower()
    best_len = 0
    best: list[tuple[Tracer, str]] = []
    for tracer in table.tracers:
        hits = [w for w in tracer.names if _contains(lowered, w, whole_words=whole_words)]
        if not hits:
            continue
        word = max(hits, key=len)
        if len(word) > best_len:
            best_len, best = len(word), [(tracer, word)]
        elif len(word) == best_len:
            best.append((tracer, word))
    if not best:
        return None
    # A tie between different words goes to the first entry; entries sharing that word
    # (one tracer on several nuclides) stay candidates together.
    word = best[0][1]
    candidates = [t for t, w in best if w == word]
    if radionuclide and len(candidates) > 1:
        named = [t for t in candidates if t.radionuclide == radionuclide]
        candidates = named or candidates
    return TracerMatch(candidates=tuple(candidates), word=word)
