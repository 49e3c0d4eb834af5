"""``cohort run --db``: the cohort's results also go into the service store.

The gathering process (the client) writes, one study at a time as its outcome arrives, with
the service's own functions: :func:`nenscope.store.imports.import_instances` for the patient,
study, series and DICOM files, and :func:`nenscope.store.analyses.record_result` for the
analysis, its version and its lesion rows. Workers never open the database:

- SQLite takes one writer at a time; one writing process (with short transactions) never
  waits on another cohort worker, only on the service, within the store's busy timeout;
- workers on other machines need neither the database's address nor its credentials;
- the store's DICOM folder need only be visible to the client.

The DICOM files of a study folder are stored as hard links where the store's DICOM folder is
on the same file system as the study (no second copy; each linked file's SHA-256 is checked
through the link), copied otherwise (another file system, a PACS study);
:meth:`nenscope.store.files.FileStore.put_from`.

Resuming adds nothing twice: an analysis carries the study's content key in its options
(``{"cohort": {"key": ...}}``); a study whose analysis with that key is already stored is
left alone, and re-importing the files of a stored study adds none (by SOPInstanceUID).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nenscope.cohort.errors import CohortError
from nenscope.cohort.manifest import StudyEntry
from nenscope.cohort.task import RECORD_FILE, StudyOutcome, record_path

__all__ = ["CohortStore", "StoredStudy"]

ARRAY_FILES = ("suv.npy", "affine.npy", "labels.npy")
"""Arrays of a record that the service's review reads from the analysis run folder."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredStudy:
    """Where a study's result is in the store; ``created`` is False when it was there."""

    study_id: int
    analysis_id: int
    created: bool


class CohortStore:
    """The service store, opened by the client of a cohort run.

    Parameters
    ----------
    data_dir
        The service's data folder (its DICOM files and analysis folders).
    db_url
        SQLAlchemy URL of the service database (``sqlite:///…``, ``postgresql+psycopg://…``).
    source
        What the store records as the studies' origin (``cohort:MANIFEST``).
    pacs
        PACS nodes by name, for importing the files of studies named by a PACS reference.

    Raises
    ------
    CohortError
        The store cannot be opened (the message says why and names the URL).
    """

    def __init__(
        self,
        data_dir: Path,
        db_url: str,
        *,
        source: str,
        pacs: Mapping[str, Any] | None = None,
    ) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from nenscope.store.db import Store, StoreError

        try:
            self._store = Store(Path(data_dir), db_url, migrate=True)
        except (StoreError, SQLAlchemyError) as err:
            raise CohortError(
                f"Cannot open the service store at {db_url} (data folder {data_dir}): {err}. "
                "Check the URL and that the database server is running."
            ) from err
        self._source = source[:128]
        self._pacs = dict(pacs or {})

    def close(self) -> None:
        """Release the database connections."""
        self._store.close()

    def _existing(self, study_uid: str, key: str) -> StoredStudy | None:
        from sqlalchemy import select

        from nenscope.store.models import Analysis, AnalysisState, Study

        with self._store.session() as session:
            study_id = session.scalar(
                select(Study.id).where(Study.study_instance_uid == study_uid)
            )
            if study_id is None:
                return None
            analyses = session.scalars(
                select(Analysis).where(
                    Analysis.study_id == study_id,
                    Analysis.status.in_([AnalysisState.DONE.value, AnalysisState.SIGNED.value]),
                )
            ).all()
            for analysis in analyses:
                cohort = analysis.options.get("cohort")
                if isinstance(cohort, Mapping) and cohort.get("key") == key:
                    return StoredStudy(study_id=study_id, analysis_id=analysis.id, created=False)
        return None

    def _files(self, entry: StudyEntry) -> tuple[list[tuple[str, bytes]], dict[str, Path]]:
        """Return the study's files and, for a study folder, each one's local file (to link)."""
        if entry.path is not None:
            local = {
                p.relative_to(entry.path).as_posix(): p
                for p in sorted(entry.path.rglob("*"))
                if p.is_file()
            }
            return [(name, p.read_bytes()) for name, p in local.items()], local
        from nenscope.pacs import retrieve_study

        node = self._pacs[str(entry.pacs_node)]
        return retrieve_study(node, entry.study_instance_uid), {}

    def record(self, entry: StudyEntry, outcome: StudyOutcome, out_dir: Path) -> StoredStudy:
        """Put one done study (files, analysis, lesions) into the store, once.

        Raises
        ------
        CohortError
            The worker left no record for the study, or the store refused it.
        """
        from nenscope.core.errors import WorkbenchError

        folder = record_path(out_dir, outcome.key)
        try:
            record = json.loads((folder / RECORD_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise CohortError(
                f"Study {entry.study}: no readable result record in {folder} ({err}); "
                "run the cohort again with --db to write it."
            ) from err
        existing = self._existing(record["study_instance_uid"], outcome.key)
        if existing is not None:
            return existing
        try:
            stored = self._insert(entry, outcome, record, folder)
        except (WorkbenchError, OSError) as err:
            raise CohortError(f"Study {entry.study}: not stored in the database: {err}") from err
        # The arrays now live in the store (a whole-body SUV image is ~100 MB); record.json
        # stays, so a rerun finds the stored analysis by the study's UID and key.
        for name in ARRAY_FILES:
            (folder / name).unlink(missing_ok=True)
        return stored

    def _insert(
        self, entry: StudyEntry, outcome: StudyOutcome, record: Mapping[str, Any], folder: Path
    ) -> StoredStudy:
        from nenscope.jobs.worker import version_dir
        from nenscope.store.analyses import record_result
        from nenscope.store.imports import import_instances
        from nenscope.store.models import Analysis, AnalysisState

        files, local = self._files(entry)
        imported = import_instances(
            self._store, files, user=None, source=self._source, paths=local
        )
        cohort = {
            "key": outcome.key,
            "study": entry.study,
            "patient_id": entry.patient_id,
            "source": self._source,
        }
        with self._store.session() as session:
            analysis = Analysis(
                study_id=imported.study_id,
                status=AnalysisState.RUNNING.value,
                options={"cohort": cohort},
            )
            session.add(analysis)
            session.flush()
            # The review's arrays go in place before the result becomes visible (the
            # service's jobs do the same); a crash here leaves no analysis row behind.
            run = version_dir(self._store, analysis.id)
            shutil.rmtree(run, ignore_errors=True)
            run.mkdir(parents=True)
            for name in ARRAY_FILES:
                if (folder / name).is_file():
                    shutil.copyfile(folder / name, run / name)
            record_result(session, analysis, record["result"], tuple(record["errors"]))
            return StoredStudy(study_id=imported.study_id, analysis_id=analysis.id, created=True)
