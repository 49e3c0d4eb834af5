"""Imaging plans saved to a patient: ``POST``/``GET /api/patients/{patient_pk}/plans``.

The browser sends the recommender form as it was filled (field name → values); the server
validates it with the form's own rules (the CLI's messages), runs the recommender again and
stores the scenario as entered with the plan it gives, so a saved plan is never one a client
made up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select

from nenscope.core.errors import WorkbenchError
from nenscope.store.audit import record_event
from nenscope.store.db import Store
from nenscope.store.models import Patient, PatientPlan, User
from nenscope.web.api._deps import Importer, Reader, StoreDep, get_or_404
from nenscope.web.pages.recommend_form import parse_form, plan_view

__all__ = ["PlanRejectedError", "router", "save_plan_form"]

router = APIRouter(tags=["plans"])


class PlanRequest(BaseModel):
    """The recommender form as filled: each scenario field name with its values as typed."""

    form: dict[str, list[str]] = Field(
        description="e.g. {'question': ['staging'], 'primary_site': ['pancreas']}"
    )


def _plan_json(row: PatientPlan, users: dict[int, str]) -> dict[str, Any]:
    return {
        "id": row.id,
        "patient": row.patient_id,
        "created_at": row.created_at.isoformat(),
        "created_by": users.get(row.created_by or 0, ""),
        "scenario": row.scenario,
        "plan": row.plan,
    }


class PlanRejectedError(WorkbenchError, ValueError):
    """The form does not make a valid scenario (the message lists every field's problem)."""


def save_plan_form(
    store: Store, patient_pk: int, form: Mapping[str, list[str]], user: User
) -> dict[str, Any]:
    """Validate the form, recommend, and save scenario + plan to the patient (audited).

    Raises
    ------
    PlanRejectedError
        For a form with mistakes (every field's message, as the page shows them) or an
        unknown patient.
    """
    result = parse_form(form)
    if result.scenario is None:
        messages = [f"{k}: {v}" for k, v in result.errors.items()] + list(result.general_errors)
        raise PlanRejectedError("The scenario is not valid: " + " ".join(messages))
    view = plan_view(result.scenario)
    scenario = {k: list(v) for k, v in result.values.items() if any(x.strip() for x in v)}
    plan = {
        **view.contract,
        "knowledge_base_version": view.knowledge_base_version,
        "total_dose_msv": round(view.total_dose_msv, 2),
        "dosed_exams": list(view.dosed_exams),
        "citations": [{"id": c.id, "text": c.text, "url": c.url} for c in view.citations],
    }
    with store.session() as session:
        if session.get(Patient, patient_pk) is None:
            raise PlanRejectedError(f"No patient with id {patient_pk}; choose one from the list.")
        row = PatientPlan(patient_id=patient_pk, scenario=scenario, plan=plan, created_by=user.id)
        session.add(row)
        session.flush()
        record_event(
            session,
            user=user,
            action="plan.save",
            object_type="patient",
            object_id=patient_pk,
            after={"plan_id": row.id, "exams": [i["exam"] for i in plan.get("plan", [])]},
        )
        return _plan_json(row, {user.id: user.username})


@router.post("/patients/{patient_pk}/plans", status_code=201)
def save_plan(
    patient_pk: int, body: PlanRequest, store: StoreDep, user: Importer
) -> dict[str, Any]:
    """Validate the form, recommend, and save scenario + plan to the patient (audited).

    A form with mistakes is answered 422 with every field's message (as the page shows them).
    """
    with store.session() as session:
        get_or_404(session, Patient, patient_pk, "patient")
    try:
        return save_plan_form(store, patient_pk, body.form, user)
    except PlanRejectedError as err:
        raise HTTPException(422, detail=str(err)) from err


@router.get("/patients/{patient_pk}/plans")
def list_plans(patient_pk: int, store: StoreDep, _user: Reader) -> list[dict[str, Any]]:
    """List the plans saved to the patient, newest first."""
    with store.session() as session:
        get_or_404(session, Patient, patient_pk, "patient")
        rows = session.scalars(
            select(PatientPlan)
            .where(PatientPlan.patient_id == patient_pk)
            .order_by(PatientPlan.id.desc())
        ).all()
        ids = {r.created_by for r in rows if r.created_by is not None}
        users = {u.id: u.username for u in session.scalars(select(User).where(User.id.in_(ids)))}
        return [_plan_json(r, users) for r in rows]
