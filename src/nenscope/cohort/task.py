"""What a Dask worker runs for one study: hash, skip if done, analyse, write the part file.

The worker reads the study files itself (from a folder, or retrieved from a PACS into a
temporary folder of its own) and writes its lesion rows to ``OUT/.parts/KEY.json`` atomically
(temporary name, then rename); only a small :class:`StudyOutcome` travels back to the client,
which turns the parts into ``lesions.parquet`` (:func:`nenscope.cohort.run.gather_lesions`).
The parts are JSON, not Parquet, so that a worker never imports pyarrow: pyarrow loads pandas
(when installed) on its first table, 0.25 CPU-s that each worker paid on its first study.
KEY is a content hash of the study's files and the analysis settings, so a study already done
is skipped, a killed run loses nothing, and a changed study is analysed again.

With ``--db`` the worker also leaves ``OUT/.parts/KEY.record/`` (the stored form of the whole
result and the SUV/label arrays) for the client to put into the service store; it is written
before the part, so a part never exists without its record when one was asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nenscope import __version__
from nenscope.cohort.adapter import analyze_for_cohort
from nenscope.cohort.errors import StudyFailedError

if TYPE_CHECKING:
    from nenscope.api import AnalysisResult
    from nenscope.pacs.nodes import PacsNode

__all__ = [
    "PARTS_DIR",
    "RECORD_FILE",
    "StudyOutcome",
    "StudyTask",
    "part_path",
    "read_part",
    "record_path",
    "run_study",
    "study_key",
]

PARTS_DIR = ".parts"
"""Sub-folder of the output folder holding one part (a JSON list of lesion rows) per study."""

RECORD_FILE = "record.json"
"""File of a record folder: the StudyInstanceUID, the stored result and its errors."""

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyTask:
    """One study to analyse (small: travels through the scheduler).

    Parameters
    ----------
    study
        Manifest value (for messages).
    path
        Study folder, as the worker sees it (shared file system); empty for a PACS study.
    out_dir
        Cohort output folder (shared file system).
    radiomics
        Radiomics preset name or YAML path, or None.
    pacs
        The PACS node holding the study (the worker retrieves it), or None for a folder.
    study_instance_uid
        StudyInstanceUID of the study on ``pacs``.
    keep_record
        Also write the record folder the client stores with ``--db``.
    """

    study: str
    path: str
    out_dir: str
    radiomics: str | None = None
    pacs: PacsNode | None = None
    study_instance_uid: str = ""
    keep_record: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyOutcome:
    """What came of one study: ``done``, ``skipped`` (done before) or ``failed``.

    ``cpu_seconds`` is the worker's CPU time for this study; ``peak_rss_mb`` the worker
    process's peak resident memory so far (ru_maxrss), for the scaling benchmark.
    """

    study: str
    state: str
    key: str = ""
    lesions: int = 0
    seconds: float = 0.0
    error: str = ""
    notes: tuple[str, ...] = ()
    worker_pid: int = 0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0


def study_key(folder: Path, settings_fingerprint: str) -> str:
    """SHA-256 (first 32 hex digits) of every file under ``folder`` and the settings.

    Raises
    ------
    StudyFailedError
        The folder does not exist or holds no file.
    """
    if not folder.is_dir():
        raise StudyFailedError(f"Study folder {folder} does not exist or is not a folder.")
    digest = hashlib.sha256(settings_fingerprint.encode())
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        raise StudyFailedError(f"Study folder {folder} holds no file.")
    for file in files:
        digest.update(file.relative_to(folder).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def settings_fingerprint(radiomics: str | None) -> str:
    """Text that changes whenever the analysis would give different results."""
    from nenscope.radiomics.settings import load_settings

    mapping: Any = None if radiomics is None else load_settings(radiomics).to_mapping()
    return json.dumps({"nenscope": __version__, "radiomics": mapping}, sort_keys=True)


def part_path(out_dir: Path, key: str) -> Path:
    """Where the part file of study ``key`` lives: a JSON list of its lesion rows."""
    return Path(out_dir) / PARTS_DIR / f"{key}.json"


def read_part(path: Path) -> list[dict[str, Any]]:
    """Return the lesion rows of a part file (:func:`part_path`).

    Raises
    ------
    StudyFailedError
        The part is not a JSON list of objects (not written by :func:`run_study`).
    """
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise StudyFailedError(f"Cannot read the cohort part {path}: {err}.") from err
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise StudyFailedError(
            f"The cohort part {path} is not a JSON list of lesion rows; delete it and run "
            "the cohort again to analyse its study anew."
        )
    return rows


def record_path(out_dir: Path, key: str) -> Path:
    """Where the record folder of study ``key`` lives (``--db`` only)."""
    return Path(out_dir) / PARTS_DIR / f"{key}.record"


def _write_record(result: AnalysisResult, target: Path) -> None:
    """Write the stored form of ``result`` and its arrays to ``target`` (atomic rename)."""
    import numpy as np

    from nenscope.jobs.analysis import outcome_of

    if result.study is None:
        raise StudyFailedError("The analysis kept no study; nothing to store.")
    outcome = outcome_of(result)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    record = {
        "study_instance_uid": result.study.pet_ref.study_instance_uid,
        "result": outcome.result,
        "errors": list(outcome.errors),
    }
    (tmp / RECORD_FILE).write_text(json.dumps(record, allow_nan=False), encoding="utf-8")
    for name, array in (("suv", outcome.suv), ("affine", outcome.affine)):
        if array is not None:
            np.save(tmp / f"{name}.npy", array)
    if outcome.labels is not None:
        np.save(tmp / "labels.npy", outcome.labels)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


@contextmanager
def _study_folder(task: StudyTask) -> Iterator[Path]:
    """Yield the study's folder: the task's own, or a temporary one holding the PACS study.

    The retrieval goes from the PACS straight to this worker (WADO-RS or C-GET), never
    through the scheduler; the temporary folder is removed whatever happens.
    """
    if task.pacs is None:
        yield Path(task.path)
        return
    from nenscope.pacs import retrieve_study

    with tempfile.TemporaryDirectory(prefix="nenscope-cohort-") as tmp:
        files = retrieve_study(task.pacs, task.study_instance_uid)
        if not files:
            raise StudyFailedError(
                f"PACS node {task.pacs.name!r} returned no instance of study "
                f"{task.study_instance_uid}; check the UID (find it with a C-FIND/QIDO search)."
            )
        folder = Path(tmp)
        for _name, data in files:
            # Named by content: a name the PACS sends is never used as a path, and the study
            # key does not depend on the order the PACS sends the instances in.
            (folder / f"{hashlib.sha256(data).hexdigest()[:40]}.dcm").write_bytes(data)
        yield folder


def _write_part(rows: list[dict[str, Any]], target: Path) -> None:
    """Write the lesion rows as JSON (Python's: a non-finite float is written as NaN).

    JSON keeps what :func:`pyarrow.Table.from_pylist` later infers the column types from:
    int, float, str, bool and None, each row's keys in order.
    """
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(rows), encoding="utf-8")
    tmp.replace(target)  # atomic: a killed worker never leaves a half part


def _done_before(part: Path, record: Path | None) -> int | None:
    """Return the lesion count of a study done before (its part, and record if asked for).

    None when it must be analysed: no part, no record where one is needed, or a part that
    cannot be read (analysed again and overwritten rather than failed).
    """
    if not part.is_file() or (record is not None and not record.is_dir()):
        return None
    try:
        return len(read_part(part))
    except StudyFailedError:
        return None


def run_study(task: StudyTask) -> StudyOutcome:
    """Analyse one study on a worker (or skip it if its part exists); never raises.

    Any failure of this study (unreadable files, an unreachable PACS, an analysis crash) is
    returned as a ``failed`` outcome with its reason, so one broken study cannot stop the
    cohort.
    """
    start = time.perf_counter()
    cpu_start = time.process_time()
    pid = os.getpid()
    try:
        with _study_folder(task) as folder:
            key = study_key(folder, settings_fingerprint(task.radiomics))
            target = part_path(Path(task.out_dir), key)
            record = record_path(Path(task.out_dir), key)
            done_rows = _done_before(target, record if task.keep_record else None)
            if done_rows is not None:
                return StudyOutcome(
                    study=task.study, state="skipped", key=key, lesions=done_rows, worker_pid=pid
                )
            from nenscope.radiomics.settings import load_settings

            settings = None if task.radiomics is None else load_settings(task.radiomics)
            rows, result = analyze_for_cohort(folder, settings)
            if task.keep_record:
                _write_record(result, record)
            _write_part(rows, target)
        return StudyOutcome(
            study=task.study,
            state="done",
            key=key,
            lesions=len(rows),
            seconds=time.perf_counter() - start,
            notes=tuple(result.errors),
            worker_pid=pid,
            cpu_seconds=time.process_time() - cpu_start,
            peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        )
    except Exception as err:  # the per-study boundary: record the failure, the cohort goes on
        return StudyOutcome(
            study=task.study,
            state="failed",
            seconds=time.perf_counter() - start,
            error=f"{type(err).__name__}: {' '.join(str(err).split())}",
            worker_pid=pid,
        )
