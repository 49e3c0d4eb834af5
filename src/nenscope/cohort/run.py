"""Run the analysis over a cohort on dask.distributed and gather one lesion table.

The client holds only the manifest and the small per-study outcomes. Workers read the studies
and write per-study parts (JSON lists of lesion rows); :func:`gather_lesions` then streams
the parts, one study at a time, into ``lesions.parquet`` (a folder of Parquet files, one per
study), adding the manifest's study, patient and label columns.
"""

from __future__ import annotations

import csv
import difflib
import fcntl
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nenscope.cohort.adapter import LESION_COLUMNS
from nenscope.cohort.cluster import (
    QUIET_DASK_CONFIG,
    ClusterSpec,
    analysis_threads_environ,
    worker_fork_server,
)
from nenscope.cohort.errors import CohortError, StudyFailedError
from nenscope.cohort.manifest import StudyEntry
from nenscope.cohort.task import (
    PARTS_DIR,
    StudyOutcome,
    StudyTask,
    part_path,
    read_part,
    run_study,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from nenscope.cohort.database import CohortStore
    from nenscope.pacs.nodes import PacsNode

__all__ = [
    "CohortSummary",
    "StoreTarget",
    "gather_lesions",
    "run_cohort",
]

LESIONS_DATASET = "lesions.parquet"
FAILURES_FILE = "failures.csv"
STUDIES_FILE = "studies.csv"
LOCK_FILE = ".lock"
"""Held (flock) by the run that writes the output folder: two runs never share one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreTarget:
    """The service store that ``--db`` also writes to.

    Parameters
    ----------
    db_url
        SQLAlchemy URL of the service database.
    data_dir
        The service's data folder (DICOM files, analysis folders), as ``nenscope serve``.
    """

    db_url: str
    data_dir: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class CohortSummary:
    """The ``--format json`` contract plus where things are."""

    studies: int
    done: int
    failed: int
    lesions: int
    skipped: int
    dashboard: str | None
    outcomes: tuple[StudyOutcome, ...]
    stored: int | None = None
    analysis_ids: Mapping[str, int] | None = None

    def to_contract(self) -> dict[str, Any]:
        """``{"studies", "done", "failed", "lesions"}`` (+ ``skipped``: done in an earlier run).

        With ``--db`` also ``stored``: done studies whose result is in the service store.
        """
        contract: dict[str, Any] = {
            "studies": self.studies,
            "done": self.done,
            "failed": self.failed,
            "lesions": self.lesions,
            "skipped": self.skipped,
        }
        if self.stored is not None:
            contract["stored"] = self.stored
        return contract


def _client(spec: ClusterSpec, *, fork_server: bool = False) -> Any:
    """Connect to ``spec.scheduler`` or start a local cluster.

    ``fork_server``: fork the local workers from the fork server :func:`_fork_server`
    started (Dask's default spawns each one: a new interpreter that imports distributed and,
    on its first study, the analysis stack).
    """
    from distributed import Client, LocalCluster

    if spec.scheduler is not None:
        try:
            return Client(spec.scheduler, timeout="20s")  # type: ignore[no-untyped-call]  # untyped
        except OSError as err:
            raise CohortError(
                f"Cannot reach the Dask scheduler at {spec.scheduler}: {err}. Start one with "
                "'dask scheduler' and give its tcp:// address."
            ) from err
    import dask

    config = dict(QUIET_DASK_CONFIG) if spec.quiet else {}
    # Spawned workers (Dask's defaults, or one Dask restarts) get the analysis' thread count
    # the way they get one-thread BLAS; forked ones got it from the fork server.
    pre_spawn = config.get("distributed.nanny.pre-spawn-environ") or dask.config.get(
        "distributed.nanny.pre-spawn-environ", {}
    )
    config["distributed.nanny.pre-spawn-environ"] = {
        **pre_spawn,
        **analysis_threads_environ(spec),
    }
    if fork_server:
        # Read by each nanny as it starts its worker: a worker that Dask restarts later (after
        # a crash) is spawned, with the same quiet settings, which the nanny keeps.
        config["distributed.worker.multiprocessing-method"] = "forkserver"
    # Every port on loopback only. The nannies hand the configuration set here to the worker
    # processes they start.
    with dask.config.set(config):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]  # distributed is untyped
            n_workers=spec.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # The scheduler's HTTP server always listens (a free port: 8787 may be taken by
            # another cluster); the dashboard pages only when asked for.
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": spec.dashboard},
            silence_logs=logging.CRITICAL,  # shutdown heartbeats under load are not errors
        )
        return Client(cluster)  # type: ignore[no-untyped-call]  # distributed is untyped


def _outcome(future: Any, study: str) -> StudyOutcome:
    """Return the study's outcome; a task that Dask itself lost is a failure of that study.

    A worker killed (e.g. out of memory) more often than
    ``distributed.scheduler.allowed-failures`` raises ``KilledWorker`` here.
    """
    try:
        result: StudyOutcome = future.result()
    except Exception as err:  # the per-study boundary: KilledWorker, CancelledError, ...
        return StudyOutcome(
            study=study, state="failed", error=f"{type(err).__name__}: {err} (worker lost)"
        )
    return result


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Hold the output folder for this run; clear what a killed run left half-written.

    A temporary part or record (``*.tmp-PID``) is only ever renamed into place whole, so one
    found while no other run holds the folder belongs to a run that was killed.
    """
    parts = out_dir / PARTS_DIR
    try:
        parts.mkdir(parents=True, exist_ok=True)
        handle = (out_dir / LOCK_FILE).open("a")
    except OSError as err:
        raise CohortError(f"Cannot create the output folder {out_dir}: {err}.") from err
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            raise CohortError(
                f"Another cohort run is writing {out_dir}; wait for it to end or choose "
                "another --out folder."
            ) from err
        stale_files = [*parts.glob("*.tmp-*"), *out_dir.glob("*.tmp-*"), *out_dir.glob("*.old-*")]
        for stale in stale_files:
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
        yield


def _tasks(
    entries: Sequence[StudyEntry],
    out_dir: Path,
    radiomics: str | None,
    pacs: Mapping[str, PacsNode],
    keep_record: bool,
) -> list[StudyTask]:
    unknown = sorted({e.pacs_node for e in entries if e.pacs_node and e.pacs_node not in pacs})
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(pacs), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise CohortError(
            f"The manifest names PACS node {unknown[0]!r}, which is not configured.{hint} "
            f"Known nodes: {', '.join(sorted(pacs)) or 'none'}; add it to the PACS TOML "
            "(--pacs-file) or give --pacs NAME=URL."
        )
    return [
        StudyTask(
            study=e.study,
            path="" if e.path is None else str(e.path.resolve()),
            out_dir=str(out_dir),
            radiomics=radiomics,
            pacs=None if e.pacs_node is None else pacs[e.pacs_node],
            study_instance_uid=e.study_instance_uid,
            keep_record=keep_record,
        )
        for e in entries
    ]


def _store_outcome(
    db: CohortStore | None, entry: StudyEntry, outcome: StudyOutcome, out_dir: Path
) -> tuple[StudyOutcome, int | None]:
    """Put a done study into the store (``--db``); a refusal becomes a note of the study."""
    if db is None or outcome.state not in ("done", "skipped"):
        return outcome, None
    try:
        stored = db.record(entry, outcome, out_dir)
    except CohortError as err:
        return replace(outcome, notes=(*outcome.notes, str(err))), None
    return outcome, stored.analysis_id


def run_cohort(
    entries: Sequence[StudyEntry],
    out_dir: Path,
    *,
    cluster: ClusterSpec,
    radiomics: str | None = None,
    store: StoreTarget | None = None,
    pacs: Mapping[str, PacsNode] | None = None,
    on_start: Callable[[str | None], None] | None = None,
    on_outcome: Callable[[StudyOutcome], None] | None = None,
) -> CohortSummary:
    """Analyse every study of ``entries`` on Dask; write lesions.parquet and failures.csv.

    Parameters
    ----------
    entries
        The manifest.
    out_dir
        Output folder; must be visible to every worker under the same path.
    cluster
        Local cluster or scheduler address.
    radiomics
        Radiomics preset or YAML path (validated here before any work starts).
    store
        Also put each done study into this service store (written by this process, one
        study at a time as its outcome arrives).
    pacs
        PACS nodes by name, for manifest rows naming a study on a PACS.
    on_start
        Called once the cluster is up, with the dashboard address (or None).
    on_outcome
        Called after each study (progress display).

    Returns
    -------
    CohortSummary
        Counts (the JSON contract) and each study's outcome.
    """
    out_dir = Path(out_dir).resolve()
    if radiomics is not None:
        from nenscope.radiomics.settings import load_settings

        load_settings(radiomics)  # refuse a bad preset before starting a cluster
    tasks = _tasks(entries, out_dir, radiomics, pacs or {}, store is not None)
    with _locked(out_dir), worker_fork_server(cluster) as fork_server:
        db = None
        if store is not None:
            from nenscope.cohort.database import CohortStore

            db = CohortStore(
                store.data_dir, store.db_url, source=f"cohort:{out_dir.name}", pacs=pacs
            )
        try:
            outcomes, analysis_ids, dashboard, closing = _run_tasks(
                entries, tasks, out_dir, cluster, fork_server, db, on_start, on_outcome
            )
        finally:
            if db is not None:
                db.close()
        # The cluster closes (its workers end) while this process writes the outputs.
        try:
            ordered = tuple(outcomes[e.study] for e in entries)
            _write_status(out_dir, entries, ordered, analysis_ids)
            lesions = gather_lesions(out_dir, entries, ordered)
        except BaseException:
            wait_for_futures([closing])
            raise
        closing.result()
    return CohortSummary(
        studies=len(entries),
        done=sum(o.state in ("done", "skipped") for o in ordered),
        failed=sum(o.state == "failed" for o in ordered),
        lesions=lesions,
        skipped=sum(o.state == "skipped" for o in ordered),
        dashboard=dashboard,
        outcomes=ordered,
        stored=None if store is None else len(analysis_ids),
        analysis_ids=None if store is None else analysis_ids,
    )


def _run_tasks(
    entries: Sequence[StudyEntry],
    tasks: Sequence[StudyTask],
    out_dir: Path,
    cluster: ClusterSpec,
    fork_server: bool,
    db: CohortStore | None,
    on_start: Callable[[str | None], None] | None,
    on_outcome: Callable[[StudyOutcome], None] | None,
) -> tuple[dict[str, StudyOutcome], dict[str, int], str | None, Future[None]]:
    """Run every task; return the outcomes and the cluster's close, started in a thread.

    On an error (or an interrupt) the cluster is closed before the error goes on.
    """
    from distributed import as_completed

    entry_of = {e.study: e for e in entries}
    client = _client(cluster, fork_server=fork_server)
    outcomes: dict[str, StudyOutcome] = {}
    analysis_ids: dict[str, int] = {}
    try:
        if on_start is not None:
            on_start(client.dashboard_link if cluster.dashboard else None)
        futures = client.map(run_study, tasks, pure=False, retries=0)
        study_of = {f.key: t.study for f, t in zip(futures, tasks, strict=True)}
        for future in as_completed(futures):  # type: ignore[no-untyped-call]  # untyped
            outcome = _outcome(future, study_of[future.key])
            outcome, analysis_id = _store_outcome(db, entry_of[outcome.study], outcome, out_dir)
            if analysis_id is not None:
                analysis_ids[outcome.study] = analysis_id
            outcomes[outcome.study] = outcome
            future.release()
            if on_outcome is not None:
                on_outcome(outcome)
        dashboard = client.dashboard_link if cluster.dashboard else None
    except BaseException:
        _close(client)
        raise
    executor = ThreadPoolExecutor(1, thread_name_prefix="nenscope-cohort-close")
    closing = executor.submit(_close, client)
    executor.shutdown(wait=False)  # the thread ends with the close; run_cohort waits for it
    return outcomes, analysis_ids, dashboard, closing


def _close(client: Any) -> None:
    """Close the client and, for a local cluster, its scheduler, nannies and workers."""
    cluster_obj = client.cluster
    client.close()
    if cluster_obj is not None:
        cluster_obj.close()


STUDIES_HEADER = (
    "study",
    "patient_id",
    "state",
    "study_key",
    "lesions",
    "seconds",
    "notes",
    "db_analysis_id",
)
"""Columns of studies.csv (``db_analysis_id``: the analysis in the service store, --db)."""


def _write_csv(target: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Write a CSV whole or not at all (temporary name, then rename)."""
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(target)


def _write_status(
    out_dir: Path,
    entries: Sequence[StudyEntry],
    outcomes: Sequence[StudyOutcome],
    analysis_ids: Mapping[str, int],
) -> None:
    pairs = list(zip(entries, outcomes, strict=True))
    _write_csv(
        out_dir / FAILURES_FILE,
        ("study", "patient_id", "error"),
        [(e.study, e.patient_id, o.error) for e, o in pairs if o.state == "failed"],
    )
    _write_csv(
        out_dir / STUDIES_FILE,
        STUDIES_HEADER,
        [
            (
                e.study,
                e.patient_id,
                o.state,
                o.key,
                o.lesions,
                f"{o.seconds:.2f}",
                " | ".join(o.notes),
                analysis_ids.get(e.study, ""),
            )
            for e, o in pairs
        ],
    )


def _label_value(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text if text != "" else None


def _part_table(out_dir: Path, key: str) -> pa.Table:
    """Return the part of study ``key`` as a table, column types inferred from its rows.

    A study without lesions gives a table of zero rows and the lesion columns, of null type.
    """
    import pyarrow as pa

    try:
        rows = read_part(part_path(out_dir, key))
    except StudyFailedError as err:  # a done study's part: the gather cannot go on without it
        raise CohortError(str(err)) from err
    if not rows:
        return pa.table({c: pa.array([], type=pa.null()) for c in LESION_COLUMNS})
    return pa.Table.from_pylist(rows)


def gather_lesions(
    out_dir: Path, entries: Sequence[StudyEntry], outcomes: Sequence[StudyOutcome]
) -> int:
    """Write ``lesions.parquet`` (one file per study) from the parts of the done studies.

    Reads one part at a time; the schema is the union of the parts' schemas (a first pass
    keeps only each part's column types), so a feature missing for one study is null there.
    The dataset is written to a temporary folder and renamed, so a killed gather leaves the
    previous one intact.

    Returns
    -------
    int
        Number of lesion rows.

    Raises
    ------
    CohortError
        A done study's part cannot be read (the message says which, and how to redo it).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    done = [
        (e, o) for e, o in zip(entries, outcomes, strict=True) if o.state in ("done", "skipped")
    ]
    label_names = sorted({k for e in entries for k in e.labels})
    fields: dict[str, pa.DataType] = {}
    for _, outcome in done:
        for f in _part_table(out_dir, outcome.key).schema:
            if not pa.types.is_null(f.type):
                fields.setdefault(f.name, f.type)
    numeric_labels = {
        n
        for n in label_names
        if all(isinstance(_label_value(e.labels.get(n, "")), float | None) for e in entries)
    }
    features = [n for n in fields if n not in LESION_COLUMNS]
    columns = ["study", "patient_id", "study_key", *label_names, *LESION_COLUMNS, *features]
    types = {
        "study": pa.string(),
        "patient_id": pa.string(),
        "study_key": pa.string(),
        **{n: pa.float64() if n in numeric_labels else pa.string() for n in label_names},
        **{c: fields.get(c, pa.string()) for c in LESION_COLUMNS},
        **{n: fields[n] for n in features},
    }
    schema = pa.schema([(c, types[c]) for c in columns])
    final = out_dir / LESIONS_DATASET
    tmp = out_dir / f"{LESIONS_DATASET}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    total = 0
    for index, (entry, outcome) in enumerate(done):
        part = _part_table(out_dir, outcome.key)
        n = part.num_rows
        constant = {
            "study": entry.study,
            "patient_id": entry.patient_id,
            "study_key": outcome.key,
            **{
                k: _label_value(entry.labels.get(k, ""))
                if k in numeric_labels
                else entry.labels.get(k)
                for k in label_names
            },
        }
        arrays = []
        for name in columns:
            if name in constant:
                arrays.append(pa.array([constant[name]] * n, type=types[name]))
            elif name in part.column_names and not pa.types.is_null(part[name].type):
                arrays.append(part[name].cast(types[name]))
            else:
                arrays.append(pa.nulls(n, type=types[name]))
        pq.write_table(
            pa.Table.from_arrays(arrays, schema=schema), tmp / f"part-{index:06d}.parquet"
        )
        total += n
    if not done:
        pq.write_table(schema.empty_table(), tmp / "part-000000.parquet")
    old = out_dir / f"{LESIONS_DATASET}.old-{os.getpid()}"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return total
