"""The FastAPI application: ``create_app(settings) -> FastAPI``.

It mounts the browser login routes (``/auth/login``, ``/auth/logout``) and the JSON API
under ``/api``, and the HTML pages of :mod:`nenscope.web.pages` when that module is
installed. The job runner starts and stops with the app.
"""

from __future__ import annotations

import importlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from nenscope import __version__
from nenscope.core.errors import WorkbenchError
from nenscope.jobs.runner import JobRunner
from nenscope.jobs.worker import WorkerSettings
from nenscope.pacs.errors import PacsError, UnknownNodeError
from nenscope.pacs.scp import StorageScp
from nenscope.store.db import Store
from nenscope.store.imports import UploadError
from nenscope.store.review import ReviewError
from nenscope.web.api import api_router
from nenscope.web.auth import browser_router
from nenscope.web.settings import ServiceSettings

__all__ = ["create_app"]

SECRET_FILE = "secret.key"
"""File in the data folder holding the pseudonym salt (created on first start)."""


def _salt(data_dir: Path) -> str:
    path = data_dir / SECRET_FILE
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _error(status_code: int) -> object:
    async def handler(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=status_code, content={"detail": str(exc)})

    return handler


def _mount_pages(app: FastAPI) -> None:
    try:
        pages = importlib.import_module("nenscope.web.pages")
    except ModuleNotFoundError as err:
        if err.name != "nenscope.web.pages":
            raise
        return
    pages.mount(app)


def create_app(settings: ServiceSettings) -> FastAPI:
    """Build the service app on the store of ``settings`` (migrated to the newest schema)."""
    store = Store(settings.data_dir, settings.db_url)
    if not settings.pseudonym_salt:
        settings = replace(settings, pseudonym_salt=_salt(store.data_dir))
    runner = (
        JobRunner(
            store,
            WorkerSettings(data_dir=store.data_dir, db_url=settings.db_url),
            workers=settings.workers,
        )
        if settings.run_jobs
        else None
    )

    scp = (
        StorageScp(
            store,
            ae_title=settings.scp_aet,
            port=settings.scp_port,
            rules=settings.queue_rules,
            on_queued=None if runner is None else runner.wake,
        )
        if settings.scp_port is not None
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if runner is not None:
            runner.start()
        if scp is not None:
            scp.start()
        try:
            yield
        finally:
            if scp is not None:
                scp.stop()
            if runner is not None:
                runner.stop()
            store.close()

    app = FastAPI(
        title="nenscope",
        version=__version__,
        summary="Imaging workbench for neuroendocrine neoplasms: studies, analyses, review.",
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.runner = runner
    for exc_type, code in (
        (UnknownNodeError, 404),
        (ReviewError, 409),
        (UploadError, 422),
        (PacsError, 502),
        (WorkbenchError, 422),
    ):
        app.add_exception_handler(exc_type, _error(code))  # type: ignore[arg-type]
    app.include_router(browser_router)
    app.include_router(api_router, prefix="/api")
    _mount_pages(app)
    return app
