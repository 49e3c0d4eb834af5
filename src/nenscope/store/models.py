"""SQLAlchemy 2 models of the service store (one module: the schema at a glance).

Every table has an integer primary key; the identifiers the JSON API hands out
(``study_id``, ``analysis_id``, ``job_id``) are these keys. DICOM files are never stored in
the database: an :class:`Instance` row names the SHA-256 of its file in the content-addressed
folder (:mod:`nenscope.store.files`). An analysis result is kept whole as the JSON of its
``to_dict()`` in :class:`AnalysisVersion` and, for the current version, as queryable
:class:`Lesion` rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Analysis",
    "AnalysisState",
    "AnalysisVersion",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Instance",
    "Job",
    "JobState",
    "Lesion",
    "Patient",
    "PatientPlan",
    "Response",
    "ReviewEdit",
    "Role",
    "Series",
    "Signature",
    "Study",
    "StudyState",
    "User",
    "UtcDateTime",
    "utc_now",
]


def utc_now() -> datetime:
    """Timezone-aware current time in UTC (every timestamp of the store)."""
    return datetime.now(UTC)


class Role(StrEnum):
    """Account roles (DESIGN.md "Web service")."""

    ADMIN = "admin"
    PHYSICIAN = "physician"
    TECHNOLOGIST = "technologist"
    RESEARCHER = "researcher"


class StudyState(StrEnum):
    """Where a study stands in the work flow (the worklist's ``status``)."""

    STORED = "stored"
    QUEUED = "queued"
    ANALYSING = "analysing"
    ANALYSED = "analysed"
    FAILED = "failed"
    SIGNED = "signed"


class JobState(StrEnum):
    """Background job states (``GET /api/jobs/{id}``)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class AnalysisState(StrEnum):
    """An analysis: waiting for or running its job, done (reviewable), failed, signed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SIGNED = "signed"


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always reads back aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive times (they would be read back as UTC whatever they meant)."""
        if value is not None and value.tzinfo is None:
            raise ValueError(f"The store keeps timezone-aware times only, got {value!r}.")
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark times read from SQLite (stored in UTC, zone dropped) as UTC."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base with JSON for ``dict``/``list`` columns."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: UtcDateTime,
    }


class User(Base):
    """An account; ``password_hash`` is an argon2id hash (never the password)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ApiToken(Base):
    """A bearer token or browser session; only the SHA-256 of the secret is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    user: Mapped[User] = relationship(lazy="joined")


class Patient(Base):
    """A patient as identified by the DICOM PatientID (0010,0020) of their studies."""

    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_key: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(256), default="")
    birth_date: Mapped[str] = mapped_column(String(16), default="")
    sex: Mapped[str] = mapped_column(String(8), default="")


class Study(Base):
    """One imaging study (StudyInstanceUID); its files are in the content-addressed store."""

    __tablename__ = "studies"
    __table_args__ = (Index("ix_studies_status_id", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    study_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    study_date: Mapped[str] = mapped_column(String(10), default="", index=True)
    description: Mapped[str] = mapped_column(String(256), default="")
    accession_number: Mapped[str] = mapped_column(String(64), default="")
    modalities: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default=StudyState.STORED)
    source: Mapped[str] = mapped_column(String(128), default="upload")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    patient: Mapped[Patient] = relationship(lazy="joined")


class Series(Base):
    """One series of a study."""

    __tablename__ = "series"
    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    series_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    modality: Mapped[str] = mapped_column(String(16), default="")
    description: Mapped[str] = mapped_column(String(256), default="")
    radiopharmaceutical: Mapped[str] = mapped_column(String(128), default="")


class Instance(Base):
    """One stored DICOM file: its SOPInstanceUID and the SHA-256 naming its file."""

    __tablename__ = "instances"
    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), index=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)


class Analysis(Base):
    """An analysis of a study; its results are the versions, the latest is ``version``."""

    __tablename__ = "analyses"
    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=AnalysisState.QUEUED)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    signed_version: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AnalysisVersion(Base):
    """One immutable version of an analysis result (``AnalysisResult.to_dict()``)."""

    __tablename__ = "analysis_versions"
    __table_args__ = (UniqueConstraint("analysis_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(String(256))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Lesion(Base):
    """A lesion of the current version of an analysis, as queryable columns."""

    __tablename__ = "lesions"
    __table_args__ = (UniqueConstraint("analysis_id", "lesion_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[int] = mapped_column(
        ForeignKey("analyses.id", ondelete="CASCADE"), index=True
    )
    lesion_key: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    site: Mapped[str] = mapped_column(String(64), default="")
    suvmax: Mapped[float | None] = mapped_column(Float)
    suvpeak: Mapped[float | None] = mapped_column(Float)
    suvmean: Mapped[float | None] = mapped_column(Float)
    volume_ml: Mapped[float | None] = mapped_column(Float)
    tlg: Mapped[float | None] = mapped_column(Float)
    x_mm: Mapped[float | None] = mapped_column(Float)
    y_mm: Mapped[float | None] = mapped_column(Float)
    z_mm: Mapped[float | None] = mapped_column(Float)


class ReviewEdit(Base):
    """One review action: it turned version ``from_version`` into ``to_version``."""

    __tablename__ = "review_edits"
    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[int] = mapped_column(
        ForeignKey("analyses.id", ondelete="CASCADE"), index=True
    )
    from_version: Mapped[int] = mapped_column(Integer)
    to_version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Signature(Base):
    """A sign-off: freezes ``version``; a later signature of the same analysis is an amendment."""

    __tablename__ = "signatures"
    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[int] = mapped_column(
        ForeignKey("analyses.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utc_now)
    report_pdf: Mapped[str] = mapped_column(String(512))
    sent: Mapped[list[Any]] = mapped_column(default=list)
    amends: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))


class Response(Base):
    """Treatment response between two studies of a patient (PERCIST, RECIST, Choi)."""

    __tablename__ = "responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    baseline_study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    followup_study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=AnalysisState.QUEUED)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class PatientPlan(Base):
    """An imaging plan from the recommender, saved to a patient (shown on the timeline).

    ``scenario`` is the scenario as validated (the YAML field names); ``plan`` is the
    recommender's contract answer (``plan``, ``avoid``, ``warnings``) plus the knowledge-base
    version and the total effective dose, computed by the server when the plan was saved.
    """

    __tablename__ = "patient_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    scenario: Mapped[dict[str, Any]]
    plan: Mapped[dict[str, Any]]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Job(Base):
    """A background job (an analysis run) with its progress and, when failed, the reason."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_id", "state", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    analysis_id: Mapped[int | None] = mapped_column(
        ForeignKey("analyses.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE", name="fk_jobs_response_id_responses"),
        index=True,
    )
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who changed what, when, with the state before and after."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
