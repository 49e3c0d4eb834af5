"""PACS connectivity: nodes, DICOMweb (QIDO/WADO/STOW) and DIMSE (echo/find/get/move/store).

:func:`echo`, :func:`find_studies`, :func:`retrieve_study` and :func:`store` choose the
protocol from the node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nenscope.pacs.dicomweb import (
    dicomweb_echo,
    dicomweb_find_studies,
    dicomweb_retrieve,
    dicomweb_store,
)
from nenscope.pacs.dimse import dimse_echo, dimse_find_studies, dimse_get_study, dimse_store
from nenscope.pacs.errors import PacsError, UnknownNodeError
from nenscope.pacs.nodes import PacsNode, Protocol, load_nodes, parse_node, parse_node_option

__all__ = [
    "PacsError",
    "PacsNode",
    "Protocol",
    "UnknownNodeError",
    "echo",
    "find_studies",
    "load_nodes",
    "parse_node",
    "parse_node_option",
    "retrieve_study",
    "store",
]


def echo(node: PacsNode) -> None:
    """Check the node answers (C-ECHO, or a QIDO-RS search for DICOMweb)."""
    if node.protocol is Protocol.DICOMWEB:
        dicomweb_echo(node)
    else:
        dimse_echo(node)


def find_studies(
    node: PacsNode, filters: Mapping[str, str], *, limit: int = 100
) -> list[dict[str, str]]:
    """Search studies (QIDO-RS or C-FIND); filters by DICOM keyword."""
    if node.protocol is Protocol.DICOMWEB:
        return dicomweb_find_studies(node, filters, limit=limit)
    return dimse_find_studies(node, filters, limit=limit)


def retrieve_study(node: PacsNode, study_instance_uid: str) -> list[tuple[str, bytes]]:
    """Fetch a whole study (WADO-RS or C-GET) as ``(name, bytes)`` pairs."""
    if node.protocol is Protocol.DICOMWEB:
        return dicomweb_retrieve(node, study_instance_uid)
    return dimse_get_study(node, study_instance_uid)


def store(node: PacsNode, files: Sequence[bytes]) -> list[str]:
    """Send instances (STOW-RS or C-STORE); returns their SOPInstanceUIDs."""
    if node.protocol is Protocol.DICOMWEB:
        return dicomweb_store(node, files)
    return dimse_store(node, files)
