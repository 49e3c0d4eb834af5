"""The web service: FastAPI app (``app.create_app``), JSON API (``api``), auth, pages."""
