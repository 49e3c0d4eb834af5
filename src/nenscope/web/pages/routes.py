"""Page routes and static files (see :mod:`nenscope.web.pages`)."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from nenscope.core.errors import WorkbenchError
from nenscope.knowledge.kb import load_knowledge_base
from nenscope.store.models import User
from nenscope.web.auth import current_user
from nenscope.web.pages._store import csrf_of, lesion_overlay, signed_in, viewer_volumes
from nenscope.web.pages.recommend_form import FORM_FIELDS, parse_form, plan_view

Reader = Annotated[User, Depends(current_user)]
"""Any signed-in user (session cookie or bearer token)."""

__all__ = [
    "STATIC_DIR",
    "TEMPLATES_DIR",
    "mount",
    "render_page",
    "router",
    "templates",
    "to_login",
]

_WEB = Path(__file__).resolve().parent.parent
STATIC_DIR = _WEB / "static"
TEMPLATES_DIR = _WEB / "templates"
VENDOR_MANIFEST = STATIC_DIR / "vendor" / "VENDORED.json"

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)


@cache
def _static_version(name: str) -> str:
    """Return a short content hash, so a browser never runs a stale script after an upgrade."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def _static(name: str) -> str:
    return f"/static/{name}?v={_static_version(name)}"


templates.env.globals["static"] = _static


def render_page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a whole page with the signed-in user and the session's CSRF token."""
    user = signed_in(request)
    context = {"user": user, "csrf": csrf_of(request) if user is not None else None, **context}
    return templates.TemplateResponse(request, template, context, status_code=status_code)


_page = render_page


def to_login(request: Request) -> RedirectResponse:
    """Send the browser to the log-in page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/", error: str | None = None) -> HTMLResponse:
    """Show the log-in form (fields ``username``, ``password``; posts to ``/auth/login``)."""
    safe_next = next if next.startswith("/") and not next.startswith("//") else "/"
    return _page(request, "login.html", next=safe_next, error=bool(error), active="")


@router.get("/", response_class=HTMLResponse, response_model=None)
def worklist_page(request: Request) -> HTMLResponse | RedirectResponse:
    """Show the worklist: studies with their status, filters, upload and PACS import."""
    user = signed_in(request)
    if user is None:
        return to_login(request)
    from nenscope.web.pages.worklist import worklist_context  # it imports this module

    return _page(request, "worklist.html", active="worklist", **worklist_context(request, user))


@router.get("/studies/{study_id}", response_class=HTMLResponse, response_model=None)
def study_page(request: Request, study_id: int) -> HTMLResponse | RedirectResponse:
    """Show the review of the study's latest analysis: viewer, lesions, scores, sign-off."""
    if signed_in(request) is None:
        return to_login(request)
    return _page(request, "study.html", study_id=study_id, active="worklist")


@router.get("/patients/{patient_pk}", response_class=HTMLResponse, response_model=None)
def timeline_page(request: Request, patient_pk: int) -> HTMLResponse | RedirectResponse:
    """Show a patient's studies in time: plots of SUVmax, TLG and tumour volume, changes."""
    if signed_in(request) is None:
        return to_login(request)
    return _page(request, "timeline.html", patient_pk=patient_pk, active="worklist")


@router.get("/recommend", response_class=HTMLResponse)
def recommend_page(request: Request) -> HTMLResponse:
    """Show the scenario form; with a query string, the plan or the messages per field.

    The form is sent with GET: asking for a plan changes nothing, and the address of a plan can
    be bookmarked or printed. A form with mistakes is answered 200 with the messages shown.
    """
    query = request.query_params
    result = None
    view = None
    if query:
        result = parse_form({k: query.getlist(k) for k in query})
        if result.scenario is not None:
            view = plan_view(result.scenario)
    groups = [(g, list(fs)) for g, fs in itertools.groupby(FORM_FIELDS, key=lambda f: f.group)]
    user = signed_in(request)
    patients = None
    if view is not None and user is not None and user.role != "researcher":
        from nenscope.web.pages.admin import patient_choices  # it imports this module

        patients = patient_choices(request, user)
    return _page(
        request,
        "recommend.html",
        groups=groups,
        result=result,
        view=view,
        kb_version=load_knowledge_base().version,
        patients=patients,
        active="recommend",
    )


@cache
def _vendored() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VENDOR_MANIFEST.read_text(encoding="utf-8"))
    return data


@router.get("/static/vendor/niivue.umd.js")
def niivue_script() -> Response:
    """Send NiiVue, stored gzip-compressed in the package, as such (Content-Encoding)."""
    entry = _vendored()["niivue"]
    body = (STATIC_DIR / "vendor" / entry["file"]).read_bytes()
    return Response(
        content=body,
        media_type="text/javascript",
        headers={
            "Content-Encoding": "gzip",
            "Cache-Control": "public, max-age=86400",
            "ETag": f'"{entry["sha256"][:16]}"',
        },
    )


def niivue_source() -> bytes:
    """Return the vendored NiiVue script, decompressed (for the integrity test)."""
    entry = _vendored()["niivue"]
    return gzip.decompress((STATIC_DIR / "vendor" / entry["file"]).read_bytes())


_VIEWER_FILES = {
    "ct.nii.gz": "application/gzip",
    "pet.nii.gz": "application/gzip",
    "mip.png": "image/png",
    "mip.json": "application/json",
}


@router.get("/studies/{study_id}/volumes/lesions.nii.gz")
def lesion_overlay_file(request: Request, study_id: int, analysis: int, _user: Reader) -> Response:
    """Send the lesion overlay of the analysis's current review version.

    Voxels: 1 candidate, 2 confirmed; rejected lesions are not drawn.
    """
    body = lesion_overlay(request, analysis, study_id)
    return Response(body, media_type="application/gzip", headers={"Cache-Control": "no-store"})


@router.get("/studies/{study_id}/volumes/{name}")
def viewer_file(request: Request, study_id: int, name: str, _user: Reader) -> Response:
    """Send one of the viewer's compact files.

    ``ct.nii.gz``, ``pet.nii.gz``, ``mip.png`` or ``mip.json``. The first request for a
    study reads it and writes the files (see
    :func:`~nenscope.pipeline.viewer.prepare_view_volumes`); later ones send them from disk.
    """
    if name not in _VIEWER_FILES:
        raise HTTPException(
            404, f"No viewer file '{name}': use one of {', '.join(_VIEWER_FILES)}."
        )
    try:
        files = viewer_volumes(request, study_id)
    except WorkbenchError as exc:
        raise HTTPException(422, f"The study cannot be shown: {exc}") from exc
    path = {
        "ct.nii.gz": files.ct,
        "pet.nii.gz": files.pet,
        "mip.png": files.mip,
        "mip.json": files.mip.with_suffix(".json"),
    }[name]
    if path is None:
        raise HTTPException(404, f"Study {study_id} has no CT in the PET's frame of reference.")
    return FileResponse(
        path, media_type=_VIEWER_FILES[name], headers={"Cache-Control": "private, no-cache"}
    )


def mount(app: FastAPI) -> None:
    """Add the pages and the static files to the service's app."""
    from nenscope.web.pages.admin import router as admin_router  # they import this module
    from nenscope.web.pages.worklist import router as worklist_router

    app.include_router(router)
    app.include_router(admin_router)
    app.include_router(worklist_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
