"""Authentication for the API and the browser: bearer tokens, session cookies, CSRF, roles.

Contract (docs/service.md "Accounts, tokens, cookies"):

- API clients: ``POST /api/auth/token`` → ``{"token"}``; then ``Authorization: Bearer TOKEN``.
- Browsers: ``POST /auth/login`` (form ``username``, ``password``, optional ``next``) sets
  ``nenscope_session`` (HttpOnly, SameSite=Strict) and ``nenscope_csrf`` (readable by page
  scripts, SameSite=Strict) and redirects (303) to ``next`` or ``/``; on failure to
  ``/login?error=1``. ``POST /auth/logout`` ends the session.
- A state-changing request authenticated by the session cookie (any method but GET, HEAD,
  OPTIONS) must carry the session's CSRF token: form field ``csrf_token`` or header
  ``X-CSRF-Token``. Bearer-token requests need none (a browser never sends them by itself).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from nenscope.store.accounts import (
    TokenKind,
    authenticate,
    issue_token,
    resolve_token,
    revoke_token,
)
from nenscope.store.audit import record_event
from nenscope.store.db import Store
from nenscope.store.models import Role, User

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "browser_router",
    "csrf_token_of",
    "current_user",
    "get_store",
    "page_user",
    "require_roles",
    "verify_csrf",
]

SESSION_COOKIE = "nenscope_session"
"""HttpOnly cookie holding the browser session secret."""

CSRF_COOKIE = "nenscope_csrf"
"""Cookie holding the session's CSRF token (readable by page scripts, e.g. for htmx)."""

CSRF_HEADER = "X-CSRF-Token"
"""Header that carries the CSRF token on script requests."""

CSRF_FIELD = "csrf_token"
"""Form field that carries the CSRF token on HTML form posts."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing and need no CSRF token."""


def get_store(request: Request) -> Store:
    """Return the app's store (dependency)."""
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _session_row(store: Store, request: Request) -> tuple[User, str | None] | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    with store.session() as session:
        row = resolve_token(session, secret, kind=TokenKind.SESSION)
        if row is None:
            return None
        return row.user, row.csrf_token


def page_user(request: Request) -> User | None:
    """Return the user of a browser request's session cookie, or ``None`` (for pages)."""
    found = _session_row(get_store(request), request)
    return None if found is None else found[0]


def csrf_token_of(request: Request) -> str | None:
    """Return the CSRF token of the request's session (to put in a page's forms)."""
    found = _session_row(get_store(request), request)
    return None if found is None else found[1]


def verify_csrf(request: Request, submitted: str | None) -> None:
    """Refuse (403) a cookie-authenticated change whose CSRF token does not match."""
    expected = csrf_token_of(request)
    if expected is None or submitted is None or not hmac.compare_digest(expected, submitted):
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=f"CSRF token missing or wrong: send the session's token in the "
            f"{CSRF_HEADER} header or the {CSRF_FIELD} form field.",
        )


async def current_user(request: Request) -> User:
    """Authenticate an API request: bearer token, else session cookie (+ CSRF); else 401."""
    store = get_store(request)
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise _unauthorised("Authorization must be 'Bearer TOKEN' (POST /api/auth/token).")
        with store.session() as session:
            row = resolve_token(session, secret.strip(), kind=TokenKind.API)
            if row is None:
                raise _unauthorised("The token is unknown or expired; get a new one.")
            return row.user
    found = _session_row(store, request)
    if found is None:
        raise _unauthorised(
            "Not authenticated: send 'Authorization: Bearer TOKEN' (POST /api/auth/token)."
        )
    user, _csrf = found
    if request.method not in SAFE_METHODS:
        verify_csrf(request, request.headers.get(CSRF_HEADER))
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], Coroutine[Any, Any, User]]:
    """Dependency: the current user, refused (403) unless their role is one of ``roles``."""
    allowed = {r.value for r in roles}

    async def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"This needs the role {' or '.join(sorted(allowed))}; "
                f"{user.username} is {user.role}.",
            )
        return user

    return check


def _safe_next(target: str | None) -> str:
    # Only a local path: an open redirect to another site would help phishing.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


browser_router = APIRouter(tags=["browser session"])


@browser_router.post("/auth/login", status_code=303, response_class=RedirectResponse)
@browser_router.post("/login", status_code=303, response_class=RedirectResponse)
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next_url: Annotated[str | None, Form(alias="next")] = None,
) -> Response:
    """Log a browser in: sets the session and CSRF cookies and redirects (303)."""
    store = get_store(request)
    settings = request.app.state.settings
    target = _safe_next(next_url)
    with store.session() as session:
        user = authenticate(session, username, password)
        if user is None:
            record_event(
                session,
                user=None,
                action="auth.login_failed",
                object_type="user",
                object_id=username[:64],
            )
            return RedirectResponse(f"/login?error=1&next={quote(target)}", status_code=303)
        issued = issue_token(
            session, user, kind=TokenKind.SESSION, lifetime=settings.session_lifetime
        )
        record_event(
            session, user=user, action="auth.login", object_type="user", object_id=user.id
        )
    response = RedirectResponse(target, status_code=303)
    max_age = int(settings.session_lifetime.total_seconds())
    secure = bool(settings.secure_cookies)
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        issued.csrf_token or "",
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return response


@browser_router.post("/auth/logout", status_code=303, response_class=RedirectResponse)
async def logout(request: Request) -> Response:
    """End the browser session (needs the CSRF token) and redirect to ``/login``."""
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    verify_csrf(request, submitted)
    secret = request.cookies.get(SESSION_COOKIE, "")
    with get_store(request).session() as session:
        revoke_token(session, secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
