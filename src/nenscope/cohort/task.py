"""What a Dask worker runs for one study: hash, skip if done, analyse, write the part file.

The worker reads the study files itself and writes its result to ``OUT/.parts/KEY.parquet``
atomically (temporary name, then rename); only a small :class:`StudyOutcome` travels back to
the client. KEY is a content hash of the study's files and the analysis settings, so a study
already done is skipped, a killed run loses nothing, and a changed study is analysed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nenscope import __version__
from nenscope.cohort.adapter import analyze_for_cohort
from nenscope.cohort.errors import StudyFailedError

__all__ = ["PARTS_DIR", "StudyOutcome", "StudyTask", "part_path", "run_study", "study_key"]

PARTS_DIR = ".parts"
"""Sub-folder of the output folder holding one Parquet file per analysed study."""

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyTask:
    """One study to analyse (small: travels through the scheduler).

    Parameters
    ----------
    study
        Manifest value (for messages).
    path
        Study folder, as the worker sees it (shared file system).
    out_dir
        Cohort output folder (shared file system).
    radiomics
        Radiomics preset name or YAML path, or None.
    """

    study: str
    path: str
    out_dir: str
    radiomics: str | None = None


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
    """Where the part file of study ``key`` lives."""
    return Path(out_dir) / PARTS_DIR / f"{key}.parquet"


def _write_part(rows: list[dict[str, Any]], target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nenscope.cohort.adapter import LESION_COLUMNS

    if rows:
        table = pa.Table.from_pylist(rows)
    else:  # a study without lesions: an empty part with the lesion columns
        table = pa.table({c: pa.array([], type=pa.null()) for c in LESION_COLUMNS})
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp)
    tmp.replace(target)  # atomic: a killed worker never leaves a half part


def run_study(task: StudyTask) -> StudyOutcome:
    """Analyse one study on a worker (or skip it if its part exists); never raises.

    Any failure of this study (unreadable files, an analysis crash) is returned as a
    ``failed`` outcome with its reason, so one broken study cannot stop the cohort.
    """
    start = time.perf_counter()
    cpu_start = time.process_time()
    pid = os.getpid()
    try:
        from nenscope.radiomics.settings import load_settings

        key = study_key(Path(task.path), settings_fingerprint(task.radiomics))
        target = part_path(Path(task.out_dir), key)
        if target.is_file():
            return StudyOutcome(study=task.study, state="skipped", key=key, worker_pid=pid)
        settings = None if task.radiomics is None else load_settings(task.radiomics)
        rows, notes = analyze_for_cohort(Path(task.path), settings)
        _write_part(rows, target)
        return StudyOutcome(
            study=task.study,
            state="done",
            key=key,
            lesions=len(rows),
            seconds=time.perf_counter() - start,
            notes=notes,
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
