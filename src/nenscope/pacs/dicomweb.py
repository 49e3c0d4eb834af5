"""DICOMweb (QIDO-RS, WADO-RS, STOW-RS) with ``dicomweb-client``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient

from nenscope.dicom.instances import dataset_from_bytes, dataset_to_bytes
from nenscope.pacs.errors import PacsError
from nenscope.pacs.nodes import PacsNode

__all__ = ["dicomweb_echo", "dicomweb_find_studies", "dicomweb_retrieve", "dicomweb_store"]

TIMEOUT_S = 60.0
"""Timeout of one DICOMweb request, s."""

STUDY_FIELDS = {
    "StudyInstanceUID": "0020000D",
    "PatientID": "00100020",
    "PatientName": "00100010",
    "StudyDate": "00080020",
    "StudyDescription": "00081030",
    "ModalitiesInStudy": "00080061",
    "AccessionNumber": "00080050",
}
"""Study attributes returned by a search, keyword → DICOM JSON tag."""


@contextmanager
def _client(node: PacsNode) -> Iterator[DICOMwebClient]:
    # Our own session, closed after each operation: no socket outlives the call.
    with requests.Session() as session:
        yield DICOMwebClient(node.url, session=session, timeout=TIMEOUT_S)


def _value(item: Mapping[str, Any], tag: str) -> str:
    values = item.get(tag, {}).get("Value") or []
    out = []
    for value in values:
        if isinstance(value, Mapping):  # PN in DICOM JSON
            out.append(str(value.get("Alphabetic", "")))
        else:
            out.append(str(value))
    return "\\".join(out)


def _fail(node: PacsNode, what: str, err: Exception) -> PacsError:
    return PacsError(f"PACS {node.name!r} ({node.url}): {what} failed: {err}")


def dicomweb_echo(node: PacsNode) -> None:
    """Check the node answers QIDO-RS (DICOMweb has no echo; a 1-study search stands in)."""
    try:
        with _client(node) as client:
            client.search_for_studies(limit=1)
    except (requests.RequestException, OSError, ValueError) as err:
        raise _fail(node, "the QIDO-RS check", err) from err


def dicomweb_find_studies(
    node: PacsNode, filters: Mapping[str, str], *, limit: int = 100
) -> list[dict[str, str]]:
    """QIDO-RS study search; ``filters`` use DICOM keywords (``PatientID``, ``StudyDate``…)."""
    try:
        with _client(node) as client:
            found = client.search_for_studies(
                search_filters=dict(filters), limit=limit, fields=list(STUDY_FIELDS)
            )
    except (requests.RequestException, OSError, ValueError) as err:
        raise _fail(node, "QIDO-RS search", err) from err
    return [{key: _value(item, tag) for key, tag in STUDY_FIELDS.items()} for item in found]


def dicomweb_retrieve(node: PacsNode, study_instance_uid: str) -> list[tuple[str, bytes]]:
    """WADO-RS retrieve of a whole study as ``(name, Part 10 bytes)``."""
    try:
        with _client(node) as client:
            datasets = client.retrieve_study(study_instance_uid)
    except (requests.RequestException, OSError, ValueError) as err:
        raise _fail(node, f"WADO-RS retrieve of study {study_instance_uid}", err) from err
    return [(f"{node.name}:{ds.SOPInstanceUID}", dataset_to_bytes(ds)) for ds in datasets]


def dicomweb_store(node: PacsNode, files: Sequence[bytes]) -> list[str]:
    """STOW-RS store; returns the SOPInstanceUIDs the node accepted."""
    datasets = [dataset_from_bytes(data) for data in files]
    try:
        with _client(node) as client:
            answer = client.store_instances(datasets)
    except (requests.RequestException, OSError, ValueError) as err:
        raise _fail(node, "STOW-RS store", err) from err
    failed = answer.get("FailedSOPSequence") or []
    if failed:
        raise PacsError(
            f"PACS {node.name!r} refused {len(failed)} of {len(datasets)} instances (STOW-RS)."
        )
    return [str(ds.SOPInstanceUID) for ds in datasets]
