"""DIMSE with ``pynetdicom``: C-ECHO, C-FIND, C-GET, C-MOVE and C-STORE as a service user.

Only the DICOM layer looks inside datasets: queries are built and answers read with
:mod:`nenscope.dicom.instances`, and received instances are kept as their encoded bytes.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pynetdicom import AE, build_role, evt
from pynetdicom.association import Association
from pynetdicom.sop_class import (  # type: ignore[attr-defined]  # generated at import time
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from nenscope.dicom.instances import dataset_from_bytes, dataset_values, make_query
from nenscope.pacs.errors import PacsError
from nenscope.pacs.nodes import PacsNode

__all__ = [
    "STORAGE_SOP_CLASSES",
    "dimse_echo",
    "dimse_find_studies",
    "dimse_get_study",
    "dimse_move_study",
    "dimse_store",
]

TIMEOUT_S = 60.0
"""Association, ACSE and DIMSE timeout, s."""

STORAGE_SOP_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.128",  # PET Image
    "1.2.840.10008.5.1.4.1.1.130",  # Enhanced PET Image
    "1.2.840.10008.5.1.4.1.1.2",  # CT Image
    "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT Image
    "1.2.840.10008.5.1.4.1.1.4",  # MR Image
    "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR Image
    "1.2.840.10008.5.1.4.1.1.20",  # NM Image
    "1.2.840.10008.5.1.4.1.1.66.4",  # Segmentation
    "1.2.840.10008.5.1.4.1.1.88.34",  # Comprehensive 3D SR
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image
    "1.2.840.10008.5.1.4.1.1.481.3",  # RT Structure Set
    "1.2.840.10008.5.1.4.1.1.104.1",  # Encapsulated PDF
)
"""Storage SOP classes nenscope sends and receives (PET/CT/MR/NM images, SEG, SR, PDF)."""

STUDY_KEYS = (
    "StudyInstanceUID",
    "PatientID",
    "PatientName",
    "StudyDate",
    "StudyDescription",
    "ModalitiesInStudy",
    "AccessionNumber",
)
"""Study attributes asked for in a C-FIND."""


def _ae(node: PacsNode) -> AE:
    ae = AE(ae_title=node.calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT_S
    ae.connection_timeout = TIMEOUT_S
    return ae


@contextmanager
def _association(node: PacsNode, ae: AE, **kwargs: Any) -> Iterator[Association]:
    # pynetdicom 3.0 leaks its socket when the connection is refused: check reachability first.
    try:
        with socket.create_connection((node.host, node.port), timeout=TIMEOUT_S):
            pass
    except OSError as err:
        raise PacsError(
            f"PACS {node.name!r} ({node.called_aet}@{node.host}:{node.port}) refused or did not "
            f"answer the connection ({err}); check host and port and that it is running."
        ) from err
    assoc = ae.associate(node.host, node.port, ae_title=node.called_aet, **kwargs)
    if not assoc.is_established:
        raise PacsError(
            f"PACS {node.name!r} ({node.called_aet}@{node.host}:{node.port}) refused or did not "
            f"answer the association from {node.calling_aet}; check the AE titles and that "
            "nenscope is a known modality there."
        )
    try:
        yield assoc
    finally:
        assoc.release()


def _status_ok(status: Any, node: PacsNode, what: str) -> int:
    if status is None or "Status" not in status:
        raise PacsError(f"PACS {node.name!r}: {what}: no answer (timeout or aborted).")
    return int(status.Status)


def dimse_echo(node: PacsNode) -> None:
    """C-ECHO the node."""
    ae = _ae(node)
    ae.add_requested_context(Verification)
    with _association(node, ae) as assoc:
        code = _status_ok(assoc.send_c_echo(), node, "C-ECHO")
    if code != 0:
        raise PacsError(f"PACS {node.name!r}: C-ECHO answered status 0x{code:04X}.")


def dimse_find_studies(
    node: PacsNode, filters: Mapping[str, str], *, limit: int = 100
) -> list[dict[str, str]]:
    """Study-level C-FIND (Study Root); ``filters`` use DICOM keywords."""
    ae = _ae(node)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    query = make_query("STUDY", filters, STUDY_KEYS)
    found: list[dict[str, str]] = []
    with _association(node, ae) as assoc:
        for status, identifier in assoc.send_c_find(
            query, StudyRootQueryRetrieveInformationModelFind
        ):
            code = _status_ok(status, node, "C-FIND")
            if code in (0xFF00, 0xFF01) and identifier is not None:
                if len(found) < limit:
                    found.append(dataset_values(identifier, STUDY_KEYS))
            elif code != 0:
                raise PacsError(f"PACS {node.name!r}: C-FIND answered status 0x{code:04X}.")
    return found


def dimse_get_study(node: PacsNode, study_instance_uid: str) -> list[tuple[str, bytes]]:
    """C-GET a whole study; returns ``(name, Part 10 bytes)`` of each instance received."""
    ae = _ae(node)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    roles = []
    for sop_class in STORAGE_SOP_CLASSES:
        ae.add_requested_context(sop_class)
        roles.append(build_role(sop_class, scp_role=True))
    received: list[tuple[str, bytes]] = []

    def on_store(event: evt.Event) -> int:
        received.append((f"{node.name}:c-get", bytes(event.encoded_dataset())))
        return 0x0000

    query = make_query("STUDY", {"StudyInstanceUID": study_instance_uid}, ())
    with _association(
        node, ae, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    ) as assoc:
        for status, _identifier in assoc.send_c_get(
            query, StudyRootQueryRetrieveInformationModelGet
        ):
            code = _status_ok(status, node, "C-GET")
            if code not in (0x0000, 0xFF00):
                raise PacsError(
                    f"PACS {node.name!r}: C-GET of study {study_instance_uid} answered status "
                    f"0x{code:04X} after {len(received)} instances."
                )
    if not received:
        raise PacsError(f"PACS {node.name!r}: study {study_instance_uid} not found (C-GET).")
    return received


def dimse_move_study(node: PacsNode, study_instance_uid: str, *, destination_aet: str) -> int:
    """C-MOVE a study to ``destination_aet`` (e.g. nenscope's Storage SCP); returns the count.

    The node must know ``destination_aet`` (host and port) in its own configuration.
    """
    ae = _ae(node)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
    query = make_query("STUDY", {"StudyInstanceUID": study_instance_uid}, ())
    completed = 0
    with _association(node, ae) as assoc:
        for status, _identifier in assoc.send_c_move(
            query, destination_aet, StudyRootQueryRetrieveInformationModelMove
        ):
            code = _status_ok(status, node, "C-MOVE")
            if code not in (0x0000, 0xFF00):
                raise PacsError(
                    f"PACS {node.name!r}: C-MOVE of {study_instance_uid} to {destination_aet} "
                    f"answered status 0x{code:04X}."
                )
            completed = int(status.get("NumberOfCompletedSuboperations", completed) or completed)
    return completed


def dimse_store(node: PacsNode, files: Sequence[bytes]) -> list[str]:
    """C-STORE each file; returns the SOPInstanceUIDs stored."""
    datasets = [dataset_from_bytes(data) for data in files]
    ae = _ae(node)
    for sop_class in sorted({str(ds.SOPClassUID) for ds in datasets}):
        ae.add_requested_context(sop_class)
    stored: list[str] = []
    with _association(node, ae) as assoc:
        for ds in datasets:
            code = _status_ok(assoc.send_c_store(ds), node, "C-STORE")
            if code != 0:
                raise PacsError(
                    f"PACS {node.name!r}: C-STORE of {ds.SOPInstanceUID} answered status "
                    f"0x{code:04X}."
                )
            stored.append(str(ds.SOPInstanceUID))
    return stored
