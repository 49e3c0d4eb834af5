"""PACS nodes: list, echo, search and retrieve into the store."""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from nenscope import pacs
from nenscope.pacs.errors import PacsError, UnknownNodeError
from nenscope.pacs.nodes import PacsNode
from nenscope.store.imports import import_instances
from nenscope.store.models import Role, User
from nenscope.web.api._deps import Importer, Reader, SettingsDep, StoreDep
from nenscope.web.api.studies import import_answer
from nenscope.web.auth import require_roles
from nenscope.web.settings import ServiceSettings

__all__ = ["router"]

router = APIRouter(tags=["pacs"])
_log = logging.getLogger(__name__)

Admin = Annotated[User, Depends(require_roles(Role.ADMIN))]


def node_of(settings: ServiceSettings, name: str) -> PacsNode:
    """Return the configured node or raise :class:`UnknownNodeError` (404)."""
    node = settings.pacs.get(name)
    if node is None:
        raise UnknownNodeError(
            f"No PACS named {name!r}; configured: {', '.join(sorted(settings.pacs)) or 'none'} "
            "(--pacs NAME=URL or pacs.toml in the data folder)."
        )
    return node


@router.get("/pacs")
def list_nodes(settings: SettingsDep, _user: Reader) -> list[dict[str, object]]:
    """List the configured PACS nodes."""
    return [node.describe() for node in settings.pacs.values()]


@router.post("/pacs/{name}/echo")
def echo(name: str, settings: SettingsDep, _user: Importer) -> dict[str, object]:
    """Check the node answers (C-ECHO or a QIDO-RS search)."""
    pacs.echo(node_of(settings, name))
    return {"name": name, "ok": True}


@router.get("/pacs/nodes")
def configured_nodes(settings: SettingsDep, _admin: Admin) -> list[dict[str, object]]:
    """List the configured nodes with their protocol and address (admin)."""
    return [node.describe() for _, node in sorted(settings.pacs.items())]


@router.post("/pacs/nodes/{name}/echo")
def echo_node(name: str, settings: SettingsDep, admin: Admin) -> dict[str, object]:
    """Test a node (C-ECHO, or a QIDO-RS search for DICOMweb); answers 200 either way.

    ``ok`` says whether it answered; ``error`` why not; ``ms`` how long it took.
    """
    node = node_of(settings, name)
    start = time.perf_counter()
    error: str | None = None
    try:
        pacs.echo(node)
    except PacsError as err:
        error = str(err)
    ok = error is None
    _log.info("PACS echo %s by %s: %s", name, admin.username, "ok" if ok else error)
    return {
        "name": name,
        "ok": ok,
        "error": error,
        "ms": round((time.perf_counter() - start) * 1000.0),
    }


@router.get("/pacs/{name}/studies")
def search(
    name: str,
    settings: SettingsDep,
    _user: Importer,
    patient_id: Annotated[str | None, Query(alias="PatientID")] = None,
    study_date: Annotated[
        str | None, Query(alias="StudyDate", description="YYYYMMDD[-YYYYMMDD]")
    ] = None,
    modality: Annotated[str | None, Query(alias="ModalitiesInStudy")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, str]]:
    """Search the node's studies (QIDO-RS or C-FIND)."""
    filters = {
        key: value
        for key, value in (
            ("PatientID", patient_id),
            ("StudyDate", study_date),
            ("ModalitiesInStudy", modality),
        )
        if value
    }
    return pacs.find_studies(node_of(settings, name), filters, limit=limit)


class RetrieveRequest(BaseModel):
    """The study to fetch."""

    study_instance_uid: str = Field(min_length=1, max_length=64)


@router.post("/pacs/{name}/retrieve", status_code=201)
def retrieve(
    name: str,
    body: RetrieveRequest,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    user: Importer,
) -> dict[str, Any]:
    """Fetch a study from the node into the store (WADO-RS or C-GET); 200 if already stored."""
    node = node_of(settings, name)
    files = pacs.retrieve_study(node, body.study_instance_uid)
    result = import_instances(store, files, user=user, source=f"pacs:{name}")
    return import_answer(result, response)
