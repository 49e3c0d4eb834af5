"""Keep patient identity out of consoles, logs and research exports.

Consoles and logs end up in tickets, chat and screenshots; research tables leave the hospital.
Neither may carry a patient's name, ID, birth date, accession number or institution, nor a
free-text descriptor that repeats them (a SeriesDescription holding the patient ID is common).
These helpers give the pseudonymous labels and the redacted descriptors that the command line
prints instead; the values stay in the DICOM outputs meant for the clinical PACS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = [
    "REDACTED",
    "identity_tokens",
    "pseudonymous_labels",
    "redact_text",
    "safe_description",
]

REDACTED = "X"
"""What replaces an identifying value inside a descriptor."""

MIN_TOKEN_CHARS = 2
"""Shorter tokens (initials, single digits) are not redacted: they would shred every text."""


def identity_tokens(*values: str) -> list[str]:
    """Split identifying values into the tokens to redact, longest first.

    Person names (``FAMILY^GIVEN^MIDDLE``) are split into their components, and an 8-digit
    date (``YYYYMMDD``) is also given in its common spellings.

    Examples
    --------
    >>> identity_tokens("DOE^JANE", "19600116")
    ['01/16/1960', '16.01.1960', '16/01/1960', '1960-01-16', '19600116', 'DOE^JANE', 'JANE', 'DOE']
    """
    tokens: set[str] = set()
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        tokens.add(text)
        tokens.update(part for part in re.split(r"[\^=\\]+", text) if part.strip())
        if re.fullmatch(r"\d{8}", text):
            y, m, d = text[:4], text[4:6], text[6:]
            tokens.update({f"{y}-{m}-{d}", f"{d}.{m}.{y}", f"{d}/{m}/{y}", f"{m}/{d}/{y}"})
    kept = {t.strip() for t in tokens if len(t.strip()) >= MIN_TOKEN_CHARS}
    return sorted(kept, key=lambda t: (-len(t), t))


def redact_text(text: str, tokens: Sequence[str]) -> str:
    """Replace every occurrence of each token (case-insensitive) by :data:`REDACTED`.

    Examples
    --------
    >>> redact_text("PET WB pid-7 Doe", identity_tokens("DOE^JANE", "PID-7"))
    'PET WB X X'
    """
    for token in sorted(tokens, key=len, reverse=True):
        text = re.sub(re.escape(token), REDACTED, text, flags=re.IGNORECASE)
    return text


def pseudonymous_labels(patient_ids: Iterable[str]) -> dict[str, str]:
    """Label each distinct patient ID ``P1``, ``P2``, … in order of first appearance.

    Examples
    --------
    >>> pseudonymous_labels(["B", "A", "B"])
    {'B': 'P1', 'A': 'P2'}
    """
    labels: dict[str, str] = {}
    for patient_id in patient_ids:
        labels.setdefault(patient_id, f"P{len(labels) + 1}")
    return labels


def safe_description(description: str, *identifying: str) -> str:
    """Return ``description`` without the ``identifying`` values, fit for a console.

    Examples
    --------
    >>> safe_description("PET WB PID-7", "PID-7", "DOE^JANE")
    'PET WB X'
    """
    return redact_text(description, identity_tokens(*identifying))
