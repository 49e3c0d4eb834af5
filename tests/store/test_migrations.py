"""Alembic migrations: upgrade and downgrade on SQLite and PostgreSQL; models match them."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from nenscope.store.db import (
    default_db_url,
    downgrade,
    head_revision,
    make_engine,
    schema_revision,
    upgrade,
)
from nenscope.store.models import Base

TABLES = {
    "users",
    "api_tokens",
    "patients",
    "studies",
    "series",
    "instances",
    "analyses",
    "analysis_versions",
    "lesions",
    "review_edits",
    "signatures",
    "jobs",
    "audit_events",
    "responses",
    "patient_plans",
}


def test_upgrade_downgrade_round_trip(db_url: str | None, tmp_path: Path) -> None:
    engine = make_engine(db_url or default_db_url(tmp_path))
    try:
        assert schema_revision(engine) is None
        upgrade(engine)
        assert schema_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            # The migrations create exactly what the models declare (no drift).
            assert compare_metadata(context, Base.metadata) == []
        downgrade(engine)
        assert schema_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(engine)
        assert schema_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_0003_adds_and_removes_only_the_plans(db_url: str | None, tmp_path: Path) -> None:
    engine = make_engine(db_url or default_db_url(tmp_path))
    try:
        upgrade(engine, "0002")
        assert "patient_plans" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert schema_revision(engine) == "0003"
        columns = {c["name"] for c in inspect(engine).get_columns("patient_plans")}
        assert columns == {"id", "patient_id", "scenario", "plan", "created_by", "created_at"}
        downgrade(engine, "0002")
        assert schema_revision(engine) == "0002"
        names = set(inspect(engine).get_table_names())
        assert "patient_plans" not in names
        assert "responses" in names
    finally:
        engine.dispose()
