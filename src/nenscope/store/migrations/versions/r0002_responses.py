"""Responses between two studies (PERCIST, RECIST, Choi) and their jobs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 18:59:52.467296
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("baseline_study_id", sa.Integer(), nullable=False),
        sa.Column("followup_study_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["baseline_study_id"], ["studies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["followup_study_id"], ["studies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_responses_patient_id"), ["patient_id"], unique=False)

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_jobs_response_id"), ["response_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_jobs_response_id_responses",
            "responses",
            ["response_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint("fk_jobs_response_id_responses", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_jobs_response_id"))
        batch_op.drop_column("response_id")

    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_responses_patient_id"))

    op.drop_table("responses")
