"""``nenscope demo --serve``: the demo study in the web app, in a throwaway data folder.

:func:`prepare_demo_service` makes a fresh data folder with one admin account whose password is
made up now and shown once, imports the demo study and queues its analysis; the command then
serves the app on 127.0.0.1 and removes the folder when it stops.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from nenscope.store.accounts import create_user
from nenscope.store.analyses import queue_analysis
from nenscope.store.db import Store
from nenscope.store.imports import import_instances
from nenscope.web.settings import ServiceSettings

__all__ = ["DEMO_ADMIN", "DemoService", "prepare_demo_service"]

DEMO_ADMIN = "admin"
"""User name of the demo's admin account."""

DEMO_PHYSICIAN = "doctor"
"""User name of the demo's physician account (review and sign need a physician)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoService:
    """What the demo server needs and what the terminal shows."""

    settings: ServiceSettings
    study_id: int
    job_id: int
    password: str


def prepare_demo_service(study_dir: Path, data_dir: Path) -> DemoService:
    """Set up a data folder for the demo: accounts, the imported study, its queued analysis.

    Parameters
    ----------
    study_dir
        The demo study's DICOM files (``nenscope demo``'s ``study`` folder).
    data_dir
        An empty folder; it holds the database and the stored files (the caller removes it).

    Returns
    -------
    DemoService
        Settings (jobs run with the app), the study's id, the analysis job and the one-time
        password of both accounts (``admin`` and ``doctor``).
    """
    password = secrets.token_urlsafe(12)
    store = Store(data_dir)
    try:
        with store.session() as session:
            create_user(session, DEMO_ADMIN, role="admin", password=password)
            create_user(session, DEMO_PHYSICIAN, role="physician", password=password)
        files = [(p.name, p.read_bytes()) for p in sorted(Path(study_dir).rglob("*.dcm"))]
        study_id = import_instances(store, files, user=None, source="demo").study_id
        job_id, _analysis_id = queue_analysis(store, study_id, {}, user=None)
    finally:
        store.close()
    return DemoService(
        settings=ServiceSettings(data_dir=data_dir, workers=1),
        study_id=study_id,
        job_id=job_id,
        password=password,
    )
