"""Alembic environment: runs the migrations on the engine handed over in the config.

Importing this module outside an Alembic run (e.g. pytest's doctest collection) does nothing.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from nenscope.store.models import Base


def run_migrations() -> None:
    """Run the migrations on ``config.attributes['engine']`` (see ``nenscope.store.db``)."""
    engine = context.config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError(
            "nenscope's migrations run through nenscope.store.db.upgrade(engine), which passes "
            "the engine in config.attributes['engine']."
        )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


# Alembic sets ``context.config`` only while it runs this script.
if hasattr(context, "config"):
    run_migrations()
