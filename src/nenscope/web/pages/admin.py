"""Admin pages, the research export page, and the plan fragments of recommender and timeline.

Admin: accounts, PACS nodes, audit log. The recommender saves a plan to a patient and the
timeline shows the saved plans through fragments of this module.

The pages are server-rendered; htmx (vendored) swaps the tables in place after a change, a
filter or a page step, with the session's CSRF token in the ``X-CSRF-Token`` header (set once
on ``<body hx-headers>``). Without htmx the forms post normally and get the whole page back.
Every page checks the role: a signed-in user without it gets a 403 page saying which role is
needed; the changes themselves go through the store's audited functions.
"""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select

from nenscope import pacs
from nenscope.core.errors import WorkbenchError
from nenscope.pacs.errors import PacsError
from nenscope.store.accounts import MIN_PASSWORD_LENGTH, AccountError, create_user, update_user
from nenscope.store.db import Store
from nenscope.store.models import Patient, PatientPlan, Role, Study, User
from nenscope.web.api._deps import patient_label
from nenscope.web.api.audit import audit_events
from nenscope.web.api.export import candidate_studies
from nenscope.web.api.plans import PlanRejectedError, save_plan_form
from nenscope.web.auth import CSRF_FIELD, CSRF_HEADER, verify_csrf
from nenscope.web.pages._store import csrf_of, signed_in
from nenscope.web.pages.routes import render_page, templates, to_login

__all__ = ["AUDIT_PAGE_SIZE", "router"]

router = APIRouter(include_in_schema=False)

AUDIT_PAGE_SIZE = 50
"""Audit events per page."""

ROLES = tuple(r.value for r in Role)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _forbidden(request: Request, user: User, needed: str) -> HTMLResponse:
    return render_page(
        request,
        "forbidden.html",
        status_code=403,
        needed=needed,
        role=user.role,
        active="",
    )


def _guard(request: Request, *roles: Role) -> User | HTMLResponse | RedirectResponse:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    if user.role not in {r.value for r in roles}:
        return _forbidden(request, user, " or ".join(r.value for r in roles))
    return user


async def _check_csrf(request: Request) -> None:
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    verify_csrf(request, submitted)


# ----------------------------------------------------------------------------- accounts
def _users(request: Request) -> list[User]:
    with _store(request).session() as session:
        rows = list(session.scalars(select(User).order_by(User.id)))
        session.expunge_all()
        return rows


def _users_answer(request: Request, me: User, message: str = "", error: str = "") -> HTMLResponse:
    context: dict[str, Any] = {
        "users": _users(request),
        "roles": ROLES,
        "me": me,
        "message": message,
        "error": error,
    }
    if _is_htmx(request):
        return templates.TemplateResponse(
            request, "_users_table.html", {**context, "csrf": csrf_of(request)}
        )
    return render_page(
        request,
        "admin_users.html",
        active="admin",
        tab="users",
        min_password=MIN_PASSWORD_LENGTH,
        **context,
    )


@router.get("/admin", response_model=None)
def admin_home(request: Request) -> RedirectResponse:
    """Go to the accounts page."""
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users", response_class=HTMLResponse, response_model=None)
def users_page(request: Request) -> HTMLResponse | RedirectResponse:
    """List the accounts with their role and state; add, change role, disable (admin)."""
    user = _guard(request, Role.ADMIN)
    if not isinstance(user, User):
        return user
    return _users_answer(request, user)


@router.post("/admin/users", response_class=HTMLResponse, response_model=None)
async def add_user(
    request: Request,
    username: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> HTMLResponse | RedirectResponse:
    """Create an account; answer the accounts table with a message or the reason it failed."""
    user = _guard(request, Role.ADMIN)
    if not isinstance(user, User):
        return user
    await _check_csrf(request)
    try:
        with _store(request).session() as session:
            create_user(session, username, role=role, password=password, actor=user)
    except AccountError as err:
        return _users_answer(request, user, error=str(err))
    return _users_answer(request, user, message=f"Account {username.strip()!r} created.")


@router.post("/admin/users/{user_id}", response_class=HTMLResponse, response_model=None)
async def change_user(
    request: Request,
    user_id: int,
    role: Annotated[str | None, Form()] = None,
    is_active: Annotated[str | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:
    """Change an account's role or disable/enable it; answer the accounts table."""
    user = _guard(request, Role.ADMIN)
    if not isinstance(user, User):
        return user
    await _check_csrf(request)
    active = None if is_active is None else is_active.lower() in ("true", "1", "yes", "on")
    try:
        with _store(request).session() as session:
            changed = update_user(session, user_id, role=role, is_active=active, actor=user)
            name, now_role, now_active = changed.username, changed.role, changed.is_active
    except AccountError as err:
        return _users_answer(request, user, error=str(err))
    state = "active" if now_active else "disabled"
    return _users_answer(request, user, message=f"{name}: {now_role}, {state}.")


# ----------------------------------------------------------------------------- PACS nodes
@router.get("/admin/pacs", response_class=HTMLResponse, response_model=None)
def pacs_page(request: Request) -> HTMLResponse | RedirectResponse:
    """List the configured PACS nodes with a C-ECHO test button each (admin)."""
    user = _guard(request, Role.ADMIN)
    if not isinstance(user, User):
        return user
    nodes = [n.describe() for _, n in sorted(request.app.state.settings.pacs.items())]
    return render_page(
        request,
        "admin_pacs.html",
        active="admin",
        tab="pacs",
        nodes=nodes,
        data_dir=str(_store(request).data_dir),
    )


@router.post("/admin/pacs/{name}/echo", response_class=HTMLResponse, response_model=None)
async def pacs_echo(request: Request, name: str) -> HTMLResponse | RedirectResponse:
    """Send a C-ECHO (or a QIDO-RS search) to the node; answer the result cell."""
    user = _guard(request, Role.ADMIN)
    if not isinstance(user, User):
        return user
    await _check_csrf(request)
    node = request.app.state.settings.pacs.get(name)
    start = time.perf_counter()
    error = None
    if node is None:
        error = f"No PACS named {name!r} is configured."
    else:
        try:
            pacs.echo(node)
        except PacsError as err:
            error = str(err)
    ms = round((time.perf_counter() - start) * 1000.0)
    return templates.TemplateResponse(
        request, "_echo_result.html", {"name": name, "error": error, "ms": ms}
    )


# ----------------------------------------------------------------------------- audit log
@router.get("/admin/audit", response_class=HTMLResponse, response_model=None)
def audit_page(
    request: Request,
    user: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    page: int = 1,
) -> HTMLResponse | RedirectResponse:
    """Show the audit log, newest first, 50 a page, filtered by user, action and object."""
    me = _guard(request, Role.ADMIN)
    if not isinstance(me, User):
        return me
    page = max(1, page)
    filters = {
        "user": user.strip(),
        "action": action.strip(),
        "object_type": object_type.strip(),
        "object_id": object_id.strip(),
    }
    with _store(request).session() as session:
        found = audit_events(
            session,
            **{k: (v or None) for k, v in filters.items()},
            limit=AUDIT_PAGE_SIZE,
            offset=(page - 1) * AUDIT_PAGE_SIZE,
        )
        events = [
            {
                "id": e.id,
                "at": e.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                "user": e.username,
                "action": e.action,
                "object": f"{e.object_type} {e.object_id}",
                "before": e.before,
                "after": e.after,
            }
            for e in found.rows
        ]
        usernames = list(session.scalars(select(User.username).order_by(User.username)))
    pages = max(1, -(-found.total // AUDIT_PAGE_SIZE))
    kept = {k: v for k, v in filters.items() if v}
    context: dict[str, Any] = {
        "events": events,
        "total": found.total,
        "page": page,
        "pages": pages,
        "filters": filters,
        "usernames": usernames,
        "prev_url": f"/admin/audit?{urlencode({**kept, 'page': page - 1})}" if page > 1 else "",
        "next_url": f"/admin/audit?{urlencode({**kept, 'page': page + 1})}"
        if page < pages
        else "",
    }
    if _is_htmx(request):
        return templates.TemplateResponse(request, "_audit_rows.html", context)
    return render_page(request, "admin_audit.html", active="admin", tab="audit", **context)


# ----------------------------------------------------------------------------- research export
@router.get("/export", response_class=HTMLResponse, response_model=None)
def export_page(
    request: Request, tracer: str = "", signed_only: bool = False
) -> HTMLResponse | RedirectResponse:
    """Choose studies (filters) and download their de-identified lesion table."""
    user = _guard(request, Role.RESEARCHER, Role.ADMIN)
    if not isinstance(user, User):
        return user
    salt = request.app.state.settings.pseudonym_salt
    with _store(request).session() as session:
        studies = candidate_studies(session, salt, tracer.strip() or None, signed_only)
    context: dict[str, Any] = {"studies": studies, "tracer": tracer, "signed_only": signed_only}
    if _is_htmx(request):
        return templates.TemplateResponse(request, "_export_studies.html", context)
    return render_page(request, "export.html", active="export", **context)


# ----------------------------------------------------------------------------- plans
def patient_choices(request: Request, user: User) -> list[dict[str, Any]]:
    """Patients for the recommender's selector: label shown and key (newest study first)."""
    salt = request.app.state.settings.pseudonym_salt
    with _store(request).session() as session:
        rows = session.execute(
            select(Patient, func.max(Study.study_date))
            .outerjoin(Study, Study.patient_id == Patient.id)
            .group_by(Patient.id)
            .order_by(func.max(Study.study_date).desc(), Patient.id)
        ).all()
    out = []
    for patient, last in rows:
        label = patient_label(user, patient.patient_key, salt)
        name = patient.name.replace("^", " ").strip()
        if user.role != Role.RESEARCHER.value and name:
            label = f"{label} · {name}"
        out.append({"id": patient.id, "label": label, "last": last or ""})
    return out


@router.post("/recommend/save", response_class=HTMLResponse, response_model=None)
async def save_plan_page(request: Request) -> HTMLResponse | RedirectResponse:
    """Save the plan of the filled form to the chosen patient (fragment: what happened)."""
    user = _guard(request, Role.ADMIN, Role.PHYSICIAN, Role.TECHNOLOGIST)
    if not isinstance(user, User):
        return user
    await _check_csrf(request)
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if key not in (CSRF_FIELD, "patient") and isinstance(value, str):
            values.setdefault(key, []).append(value)
    raw_patient = form.get("patient")
    error, saved = "", None
    try:
        patient_pk = int(raw_patient) if isinstance(raw_patient, str) else 0
        saved = save_plan_form(_store(request), patient_pk, values, user)
    except ValueError:
        error = "Choose the patient the plan is for."
    except (PlanRejectedError, WorkbenchError) as err:
        error = str(err)
    context: dict[str, Any] = {"error": error, "saved": saved}
    if _is_htmx(request):
        return templates.TemplateResponse(request, "_plan_saved.html", context)
    if saved is not None:
        return RedirectResponse(f"/patients/{saved['patient']}#plans", status_code=303)
    return render_page(request, "plan_saved.html", active="recommend", **context)


@router.get("/patients/{patient_pk}/plans", response_class=HTMLResponse, response_model=None)
def plans_fragment(request: Request, patient_pk: int) -> HTMLResponse | RedirectResponse:
    """Show the patient's saved plans, newest first (fragment for the timeline)."""
    user = signed_in(request)
    if user is None:
        return to_login(request)
    with _store(request).session() as session:
        rows = session.scalars(
            select(PatientPlan)
            .where(PatientPlan.patient_id == patient_pk)
            .order_by(PatientPlan.id.desc())
        ).all()
        names = {int(r[0]): str(r[1]) for r in session.execute(select(User.id, User.username))}
        plans = [
            {
                "id": r.id,
                "at": r.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                "by": names.get(r.created_by or 0, ""),
                "scenario": r.scenario,
                "plan": r.plan,
                "reopen": "/recommend?"
                + urlencode([(k, v) for k, vs in r.scenario.items() for v in vs]),
            }
            for r in rows
        ]
    return templates.TemplateResponse(request, "_plans.html", {"plans": plans})
