"""The worklist's table as a server-rendered fragment (htmx): filters and pages in SQL.

The page used to load the newest 100 studies once and filter them in the browser, so a study
beyond the first hundred could not be found. Now the filter form and the pager ask
``GET /worklist/rows`` for the matching page (patient, date range, modality or tracer,
status); the fragment polls itself every 3 s while a study of the page is queued or being
analysed, else every 15 s. Researchers see pseudonyms and filter on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import exists, func, or_, select

from nenscope.store.db import Store
from nenscope.store.models import Patient, Role, Series, Study, User
from nenscope.web.api._deps import patient_label
from nenscope.web.pages._store import signed_in
from nenscope.web.pages.routes import templates, to_login

__all__ = ["PAGE_SIZE", "STATUS_LABEL", "WorklistFilters", "router", "worklist_context"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
"""Studies per worklist page."""

STATUS_LABEL = {
    "stored": "received",
    "queued": "queued",
    "analysing": "analysing",
    "analysed": "for review",
    "signed": "signed",
    "failed": "failed",
}
"""The store's study states in the words of a reading room."""

BUSY = ("queued", "analysing")
RESEARCHER_SCAN_LIMIT = 5000
"""Most studies searched for a researcher's pseudonym filter (pseudonyms are not in SQL)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WorklistFilters:
    """The filter form's values (as typed)."""

    patient: str = ""
    date_from: str = ""
    date_to: str = ""
    modality: str = ""
    status: str = ""
    page: int = 1

    def query(self, page: int) -> str:
        """Return the query string of these filters at ``page``."""
        values = {
            "patient": self.patient,
            "from": self.date_from,
            "to": self.date_to,
            "modality": self.modality,
            "status": self.status,
            "page": str(page),
        }
        return urlencode({k: v for k, v in values.items() if v})


def _filters(request: Request) -> WorklistFilters:
    q = request.query_params
    try:
        page = max(1, int(q.get("page") or 1))
    except ValueError:
        page = 1
    return WorklistFilters(
        patient=(q.get("patient") or "").strip(),
        date_from=(q.get("from") or "").strip(),
        date_to=(q.get("to") or "").strip(),
        modality=(q.get("modality") or "").strip(),
        status=(q.get("status") or "").strip(),
        page=page,
    )


def _rows(store: Store, user: User, salt: str, f: WorklistFilters) -> tuple[list[Any], int]:
    query = select(Study, Patient).join(Patient, Patient.id == Study.patient_id)
    states = [k for k, v in STATUS_LABEL.items() if v == f.status]
    if states:
        query = query.where(Study.status.in_(states))
    if f.date_from:
        query = query.where(Study.study_date >= f.date_from)
    if f.date_to:
        query = query.where(Study.study_date <= f.date_to)
    if f.modality:
        tracer = exists().where(
            Series.study_id == Study.id, Series.radiopharmaceutical.icontains(f.modality)
        )
        query = query.where(or_(Study.modalities.icontains(f.modality), tracer))
    researcher = user.role == Role.RESEARCHER.value
    if f.patient and not researcher:
        query = query.where(
            or_(Patient.patient_key.icontains(f.patient), Patient.name.icontains(f.patient))
        )
    query = query.order_by(Study.study_date.desc(), Study.id.desc())
    with store.session() as session:
        if f.patient and researcher:
            found = [
                (s, p)
                for s, p in session.execute(query.limit(RESEARCHER_SCAN_LIMIT))
                if f.patient.lower() in patient_label(user, p.patient_key, salt).lower()
            ]
            total = len(found)
            page = found[(f.page - 1) * PAGE_SIZE : f.page * PAGE_SIZE]
        else:
            total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
            page = list(session.execute(query.limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE)))
        rows = [
            {
                "study_id": s.id,
                "patient_pk": p.id,
                "patient": patient_label(user, p.patient_key, salt),
                "study_date": s.study_date,
                "modalities": s.modalities.replace(",", ", "),
                "status": s.status,
                "label": STATUS_LABEL.get(s.status, s.status),
            }
            for s, p in page
        ]
    return rows, total


def worklist_context(request: Request, user: User) -> dict[str, Any]:
    """Return what ``_worklist_rows.html`` needs for the request's filters."""
    f = _filters(request)
    store: Store = request.app.state.store
    rows, total = _rows(store, user, request.app.state.settings.pseudonym_salt, f)
    pages = max(1, -(-total // PAGE_SIZE))
    return {
        "rows": rows,
        "total": total,
        "page": f.page,
        "pages": pages,
        "filters": f,
        "busy": any(r["status"] in BUSY for r in rows),
        "prev_query": f.query(f.page - 1) if f.page > 1 else "",
        "next_query": f.query(f.page + 1) if f.page < pages else "",
        "self_query": f.query(f.page),
        "can_analyse": user.role != Role.RESEARCHER.value,
    }


@router.get("/worklist/rows", response_class=HTMLResponse, response_model=None)
def worklist_rows(request: Request) -> HTMLResponse | RedirectResponse:
    """Show one page of the worklist for the filters (fragment)."""
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return templates.TemplateResponse(
        request, "_worklist_rows.html", worklist_context(request, user)
    )
