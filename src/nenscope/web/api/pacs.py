"""PACS nodes: list, echo, search and retrieve into the store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from nenscope import pacs
from nenscope.pacs.errors import UnknownNodeError
from nenscope.pacs.nodes import PacsNode
from nenscope.store.imports import import_instances
from nenscope.web.api._deps import Importer, Reader, SettingsDep, StoreDep
from nenscope.web.api.studies import import_answer
from nenscope.web.settings import ServiceSettings

__all__ = ["router"]

router = APIRouter(tags=["pacs"])


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
