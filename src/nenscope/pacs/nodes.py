"""PACS nodes: parsed from ``--pacs NAME=URL`` or from ``pacs.toml`` in the data folder.

URL forms (DESIGN.md "Web service"):

- ``dicomweb+http://host:port/dicom-web`` (or ``dicomweb+https://…``): QIDO-RS, WADO-RS, STOW-RS;
- ``dimse://AET@host:port``: C-ECHO, C-FIND, C-GET/C-MOVE, C-STORE.

``pacs.toml``::

    [nodes.orthanc]
    url = "dicomweb+http://127.0.0.1:8042/dicom-web"

    [nodes.archive]
    url = "dimse://ARCHIVE@10.0.0.5:104"
    calling_aet = "NENSCOPE"        # optional, our AE title
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from nenscope.core.errors import OptionError

__all__ = [
    "DEFAULT_CALLING_AET",
    "PACS_FILE",
    "PacsNode",
    "Protocol",
    "load_nodes",
    "parse_node",
    "parse_node_option",
    "read_nodes_file",
]

PACS_FILE = "pacs.toml"
"""Name of the PACS node file in the data folder."""

DEFAULT_CALLING_AET = "NENSCOPE"
"""Our AE title unless a node says otherwise."""

MAX_AET_LENGTH = 16
"""An AE title has at most 16 characters (DICOM PS3.5 6.2, VR AE)."""


class Protocol(StrEnum):
    """How nenscope talks to a node."""

    DICOMWEB = "dicomweb"
    DIMSE = "dimse"


@dataclass(frozen=True, slots=True, kw_only=True)
class PacsNode:
    """One PACS node.

    Parameters
    ----------
    name
        The name used in the API (``/api/pacs/{name}/…``).
    protocol
        DICOMweb or DIMSE.
    url
        DICOMweb base URL (``http://host:port/dicom-web``) for DICOMweb; ``""`` for DIMSE.
    host, port, called_aet
        DIMSE peer; empty/0 for DICOMweb.
    calling_aet
        Our AE title for DIMSE.
    """

    name: str
    protocol: Protocol
    url: str = ""
    host: str = ""
    port: int = 0
    called_aet: str = ""
    calling_aet: str = DEFAULT_CALLING_AET

    def describe(self) -> dict[str, object]:
        """Return the node as JSON for the API (no secrets are held, all is shown)."""
        return {
            "name": self.name,
            "protocol": self.protocol.value,
            "url": self.url,
            "host": self.host,
            "port": self.port,
            "called_aet": self.called_aet,
            "calling_aet": self.calling_aet,
        }


def _check_aet(aet: str, where: str) -> str:
    if not aet or len(aet) > MAX_AET_LENGTH or "\\" in aet or not aet.isprintable():
        raise OptionError(f"{where}: AE title {aet!r} must be 1-16 printable characters.")
    return aet


def parse_node(name: str, url: str, *, calling_aet: str = DEFAULT_CALLING_AET) -> PacsNode:
    """Parse a node URL (module docstring).

    Examples
    --------
    >>> parse_node("o", "dimse://ORTHANC@127.0.0.1:4242").called_aet
    'ORTHANC'
    >>> parse_node("o", "dicomweb+http://127.0.0.1:8042/dicom-web").url
    'http://127.0.0.1:8042/dicom-web'
    """
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise OptionError(f"PACS name {name!r} must be letters, digits, '-' or '_'.")
    parts = urlsplit(url)
    where = f"PACS {name!r} ({url})"
    if parts.scheme in ("dicomweb+http", "dicomweb+https"):
        if not parts.hostname:
            raise OptionError(f"{where}: no host; e.g. dicomweb+http://127.0.0.1:8042/dicom-web.")
        base = parts._replace(scheme=parts.scheme.removeprefix("dicomweb+")).geturl()
        return PacsNode(
            name=name, protocol=Protocol.DICOMWEB, url=base.rstrip("/"), calling_aet=calling_aet
        )
    if parts.scheme == "dimse":
        if not parts.username or not parts.hostname or parts.port is None:
            raise OptionError(
                f"{where}: needs AET@host:port, e.g. dimse://ORTHANC@127.0.0.1:4242."
            )
        return PacsNode(
            name=name,
            protocol=Protocol.DIMSE,
            host=parts.hostname,
            port=parts.port,
            called_aet=_check_aet(parts.username, where),
            calling_aet=_check_aet(calling_aet, where),
        )
    raise OptionError(
        f"{where}: unknown scheme {parts.scheme!r}; use dicomweb+http://host:port/dicom-web "
        "or dimse://AET@host:port."
    )


def parse_node_option(text: str) -> PacsNode:
    """Parse ``NAME=URL`` (the ``--pacs`` option)."""
    name, sep, url = text.partition("=")
    if not sep:
        raise OptionError(
            f"--pacs {text!r} must be NAME=URL, e.g. --pacs orthanc=dimse://O@h:104."
        )
    return parse_node(name.strip(), url.strip())


def read_nodes_file(path: Path) -> dict[str, PacsNode]:
    """Nodes of a PACS TOML file (``[nodes.NAME]`` tables, as ``pacs.toml``).

    Raises
    ------
    OptionError
        The file is unreadable, not TOML, or a node has no ``url``.
    """
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as err:
        raise OptionError(f"{path}: not readable TOML ({err}).") from err
    entries = table.get("nodes", {})
    if not isinstance(entries, Mapping):
        raise OptionError(f"{path}: [nodes.NAME] tables expected.")
    nodes: dict[str, PacsNode] = {}
    for name, entry in entries.items():
        if not isinstance(entry, Mapping) or not isinstance(entry.get("url"), str):
            raise OptionError(f'{path}: [nodes.{name}] needs url = "...".')
        calling = str(entry.get("calling_aet", DEFAULT_CALLING_AET))
        nodes[name] = parse_node(name, entry["url"], calling_aet=calling)
    return nodes


def load_nodes(data_dir: Path, options: Iterable[str] = ()) -> dict[str, PacsNode]:
    """Nodes from ``data_dir/pacs.toml`` and then the ``--pacs`` options (which win)."""
    path = data_dir / PACS_FILE
    nodes = read_nodes_file(path) if path.exists() else {}
    for text in options:
        node = parse_node_option(text)
        nodes[node.name] = node
    return nodes
