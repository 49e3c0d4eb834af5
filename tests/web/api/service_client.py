"""Helpers of the API tests: an app on a fresh store with accounts, and job polling."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from nenscope.core.safe_yaml import MAX_UPLOAD_BYTES
from nenscope.pacs.nodes import PacsNode
from nenscope.pacs.scp import QueueRule
from nenscope.store import Store
from nenscope.store.accounts import create_user
from nenscope.web.app import create_app
from nenscope.web.settings import ServiceSettings

PASSWORD = "a long password"
JOB_TIMEOUT_S = 300.0


@contextmanager
def service(
    data_dir: Path,
    db_url: str | None = None,
    *,
    pacs: Mapping[str, PacsNode] | None = None,
    run_jobs: bool = True,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    create_users: bool = True,
    scp_port: int | None = None,
    queue_rules: tuple[QueueRule, ...] = (),
) -> Iterator[TestClient]:
    if create_users:
        store = Store(data_dir, db_url)
        with store.session() as session:
            for name, role in (
                ("admin", "admin"),
                ("doc", "physician"),
                ("tech", "technologist"),
                ("res", "researcher"),
            ):
                create_user(session, name, role=role, password=PASSWORD)
        store.close()
    settings = ServiceSettings(
        data_dir=data_dir,
        db_url=db_url,
        pacs=dict(pacs or {}),
        run_jobs=run_jobs,
        max_upload_bytes=max_upload_bytes,
        workers=2,
        scp_port=scp_port,
        queue_rules=queue_rules,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def token(client: TestClient, user: str) -> dict[str, str]:
    answer = client.post("/api/auth/token", json={"username": user, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def wait_job(client: TestClient, headers: dict[str, str], job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {JOB_TIMEOUT_S} s: {job}")
