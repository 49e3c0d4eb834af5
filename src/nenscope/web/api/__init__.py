"""The JSON API mounted under ``/api`` (DESIGN.md "Web service"; OpenAPI at ``/docs``)."""

from __future__ import annotations

from fastapi import APIRouter

from nenscope.web.api import analyses, audit, auth, export, pacs, plans, recommend, studies

__all__ = ["api_router"]

api_router = APIRouter()
for _module in (auth, studies, analyses, pacs, recommend, audit, plans, export):
    api_router.include_router(_module.router)
