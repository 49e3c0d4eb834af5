"""The browser pages of ``nenscope serve``: server-rendered Jinja2 pages over the JSON API.

:func:`mount` adds the page routes (DESIGN.md "Web service": ``/login``, ``/`` the worklist,
``/studies/{study_id}``, ``/recommend``) and the static files (vendored NiiVue and htmx, the
pages' own JavaScript and CSS) to the service's FastAPI app. The pages hold no patient data
when served; their scripts fetch it from ``/api`` with the user's credentials.
"""

from __future__ import annotations

from nenscope.web.pages.routes import STATIC_DIR, TEMPLATES_DIR, mount, router

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "mount", "router"]
