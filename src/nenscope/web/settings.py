"""Settings of one service instance (``nenscope serve`` options), a frozen value object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from nenscope.core.safe_yaml import MAX_UPLOAD_BYTES
from nenscope.pacs.nodes import PacsNode
from nenscope.pacs.scp import QueueRule

__all__ = ["ServiceSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSettings:
    """Everything :func:`nenscope.web.app.create_app` needs.

    Parameters
    ----------
    data_dir
        Data folder: DICOM files (content-addressed), analysis outputs, SQLite database.
    db_url
        SQLAlchemy database URL; ``None`` = SQLite in ``data_dir``.
    pacs
        PACS nodes by name (``--pacs NAME=URL`` and ``pacs.toml`` in the data folder).
    workers
        Analyses run at once (worker processes).
    token_lifetime
        Validity of an API bearer token.
    session_lifetime
        Validity of a browser session.
    max_upload_bytes
        Largest upload accepted (after unzipping); by default the product's one upload cap,
        :data:`nenscope.core.safe_yaml.MAX_UPLOAD_BYTES`.
    secure_cookies
        Mark cookies ``Secure`` (behind a TLS reverse proxy: always).
    run_jobs
        Start the job runner with the app (tests may run without it).
    organisation
        Name written as VerifyingOrganization (0040,A027) when a report is signed.
    scp_port
        Port of the Storage SCP (PACS and modalities push studies); ``None`` = no SCP.
    scp_aet
        AE title of the Storage SCP.
    queue_rules
        Rules that queue an analysis for a pushed study (``[[rules]]`` in ``pacs.toml``).
    pseudonym_salt
        Secret mixed into the pseudonyms researchers see; ``""`` = the data folder's own
        (created on first start in ``secret.key``).
    """

    data_dir: Path
    db_url: str | None = None
    pacs: Mapping[str, PacsNode] = field(default_factory=dict)
    workers: int = 2
    token_lifetime: timedelta = timedelta(hours=12)
    session_lifetime: timedelta = timedelta(hours=8)
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    secure_cookies: bool = False
    run_jobs: bool = True
    organisation: str = "nenscope"
    scp_port: int | None = None
    scp_aet: str = "NENSCOPE"
    queue_rules: tuple[QueueRule, ...] = ()
    pseudonym_salt: str = ""
