"""``POST /api/recommend``: the imaging recommendation for a scenario (DESIGN.md contract)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from nenscope.knowledge.recommender import recommend as recommend_plan
from nenscope.knowledge.scenario import parse_scenario
from nenscope.web.api._deps import Reader

__all__ = ["router"]

router = APIRouter(tags=["recommend"])


@router.post("/recommend")
def recommend(scenario: Annotated[dict[str, Any], Body()], _user: Reader) -> dict[str, Any]:
    """Recommend the imaging work-up (``{"plan", "avoid", "warnings"}``)."""
    plan = recommend_plan(parse_scenario(scenario, source="request body"))
    return plan.to_contract()
