"""Cohort scaling on this machine: 1 vs 2 worker processes, overhead vs serial, worker memory.

Usage: ``python benchmarks/bench_cohort.py [--studies 24] [--work DIR] [--whole-body]``
``python benchmarks/bench_cohort.py --processes [--cli]``: the whole-process comparison below.

1. Generates N small synthetic studies (cached in --work).
2. Serial baseline: the same per-study analysis (``nenscope.cohort.adapter``) in one process,
   one study after the other (wall and CPU time).
3. ``run_cohort`` with a LocalCluster of 1 and of 2 worker processes (fresh output folders);
   the 1-worker run twice: as is (two threads per analysis on a 2-core machine) and with
   ``NENSCOPE_THREADS=1`` (one, as each of the 2 workers has).
4. Reports wall-clock speed-up, and CPU-time-based numbers that a machine shared with other
   work does not distort: per-study worker CPU time, the busiest worker's CPU time, and the
   overhead per study of the cohort machinery against the serial baseline.
5. ``--whole-body``: one clinical-size study on 1 worker; the worker's peak resident memory.

``--processes`` measures instead every run in a fresh Python process and counts the CPU of
the whole process tree (its own threads + every child it waited for: the Dask worker
processes, or the CLI processes): the serial loop in one process (imports included), the
serial CLI (``nenscope analyze`` per study, ``--cli``), and the cohort with 1 and 2 workers,
with the quiet Dask settings of :data:`nenscope.cohort.cluster.QUIET_DASK_CONFIG` and with Dask's
defaults. The overhead per study is the cohort's extra CPU over the serial loop, divided by
the number of studies, relative to the serial loop's CPU per study.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The analysis is imported inside the functions: the local cluster's fork server imports this
# script (its __main__) before the analysis stack, as it imports the nenscope console script
# for `nenscope cohort run` (nenscope._console: nothing), so the two start alike.
from nenscope.core.threads import THREADS_VARIABLE

if TYPE_CHECKING:
    from nenscope.cohort import StudyOutcome


def _generate(work: Path, n: int) -> Path:
    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

    manifest = work / f"manifest-{n}.csv"
    lines = ["study,patient_id"]
    for i in range(n):
        folder = work / f"s{i:03d}"
        if not (folder / "truth.json").is_file():
            write_phantom_study(folder, PhantomSettings(size="small", seed=i, noise=0.05))
        lines.append(f"{folder},P{i:03d}")
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def _serial(manifest: Path) -> dict[str, float]:
    from nenscope.cohort import read_manifest
    from nenscope.cohort.adapter import analyze_for_cohort

    entries = read_manifest(manifest)
    analyze_for_cohort(entries[0].path, None)  # warm-up: imports and JIT, as a worker's 1st study
    per_study = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for entry in entries:
        c0 = time.process_time()
        analyze_for_cohort(entry.path, None)
        per_study.append(time.process_time() - c0)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "per_study_cpu_s": cpu / len(entries),
        "median_study_cpu_s": statistics.median(per_study),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cohort(manifest: Path, out: Path, workers: int) -> dict[str, float]:
    import psutil  # type: ignore[import-untyped]  # distributed's own dependency

    from nenscope.cohort import ClusterSpec, read_manifest, run_cohort

    shutil.rmtree(out, ignore_errors=True)
    entries = read_manifest(manifest)
    process_cpu: dict[int, float] = {}

    def on_outcome(outcome: StudyOutcome) -> None:
        # The worker process's whole CPU so far: start-up, imports, tasks, Dask's threads.
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(outcome.worker_pid).cpu_times()
            process_cpu[outcome.worker_pid] = times.user + times.system

    wall0, cpu0, kids0 = time.perf_counter(), time.process_time(), _children_cpu()
    summary = run_cohort(
        entries, out, cluster=ClusterSpec(workers=workers, dashboard=False), on_outcome=on_outcome
    )
    wall, client_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    per_worker: dict[int, float] = {}
    for o in summary.outcomes:
        per_worker[o.worker_pid] = per_worker.get(o.worker_pid, 0.0) + o.cpu_seconds
    return {
        "wall_s": wall,
        "client_cpu_s": client_cpu,
        # Every process the run started and ended (workers, and the fork server that
        # imported the analysis stack once for them), whole-process CPU.
        "started_processes_cpu_s": _children_cpu() - kids0,
        "worker_process_cpu_s": sum(process_cpu.values()),
        "busiest_worker_process_cpu_s": max(process_cpu.values()),
        "worker_cpu_s": sum(per_worker.values()),
        "busiest_worker_cpu_s": max(per_worker.values()),
        "workers_used": len(per_worker),
        "done": summary.done,
        "failed": summary.failed,
        "lesions": summary.lesions,
        "peak_rss_mb": max(o.peak_rss_mb for o in summary.outcomes),
        # The median excludes each worker's first study (imports, JIT: a one-off per worker).
        "median_study_cpu_s": statistics.median(o.cpu_seconds for o in summary.outcomes),
    }


def _whole_body(work: Path, size: str) -> dict[str, float]:
    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

    folder = work / f"wholebody-{size}"
    if not (folder / "truth.json").is_file():
        write_phantom_study(folder, PhantomSettings(size="clinical", seed=1, noise=0.05))
    manifest = work / "manifest-wholebody.csv"
    manifest.write_text(f"study\n{folder}\n", encoding="utf-8")
    result = _cohort(manifest, work / "out-wholebody", 1)
    size_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
    return {**result, "study_mb": size_mb}


_CHILD = """
import json, resource, sys, time
from pathlib import Path
mode, manifest, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
wall0 = time.perf_counter()
extra = {}
if mode == "serial":
    from nenscope.cohort import read_manifest
    from nenscope.cohort.adapter import analyze_for_cohort
    for entry in read_manifest(manifest):
        analyze_for_cohort(entry.path, None)
elif mode == "cli":
    import subprocess
    from nenscope.cohort import read_manifest
    exe = str(Path(sys.executable).with_name("nenscope"))
    for i, entry in enumerate(read_manifest(manifest)):
        subprocess.run([exe, "analyze", str(entry.path), "--out", str(out / str(i)),
                        "--format", "json"], check=True, capture_output=True)
else:
    from nenscope.cohort import ClusterSpec, StudyOutcome, read_manifest, run_cohort
    workers, quiet = int(mode.split("-")[1]), mode.endswith("quiet")
    spec = ClusterSpec(workers=workers, dashboard=False, quiet=quiet)
    summary = run_cohort(read_manifest(manifest), out, cluster=spec)
    assert summary.failed == 0 and summary.skipped == 0, summary.to_contract()
    extra["task_cpu_s"] = sum(o.cpu_seconds for o in summary.outcomes)
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "wall_s": time.perf_counter() - wall0,
    "self_cpu_s": me.ru_utime + me.ru_stime,
    "children_cpu_s": kids.ru_utime + kids.ru_stime,
    "sys_cpu_s": me.ru_stime + kids.ru_stime,
    "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
    **extra,
}))
"""


def _process(mode: str, manifest: Path, out: Path) -> dict[str, float]:
    """Run one mode in a fresh interpreter; CPU of its whole process tree."""
    import subprocess
    import sys

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(manifest), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def processes(work: Path, n: int, with_cli: bool) -> dict[str, object]:
    """The whole-process comparison (see the module docstring).

    Each mode runs on all ``n`` studies and on the first third of them: the difference is
    the CPU per study with every one-off cost (interpreter, imports, JIT, cluster start)
    cancelled; the full run's total gives the overhead with those costs spread over ``n``.
    """
    small = max(2, n // 3)
    full_manifest = _generate(work, n)
    small_manifest = work / f"manifest-{n}-first-{small}.csv"
    lines = full_manifest.read_text(encoding="utf-8").splitlines()
    small_manifest.write_text("\n".join(lines[: small + 1]) + "\n", encoding="utf-8")
    report: dict[str, object] = {"studies": n, "small": small, "load_avg_start": os.getloadavg()}
    modes = ["serial", "cohort-1-quiet", "cohort-1-default", "cohort-2-quiet"]
    if with_cli:
        modes.append("cli")
    marginal: dict[str, float] = {}
    for mode in modes:
        full = _process(mode, full_manifest, work / f"proc-{mode}")
        report[mode] = full
        if mode in ("serial", "cohort-1-quiet", "cohort-1-default"):
            part = _process(mode, small_manifest, work / f"proc-{mode}-small")
            report[f"{mode}-first-{small}"] = part
            marginal[mode] = (full["cpu_s"] - part["cpu_s"]) / (n - small)
            report[f"{mode}_cpu_per_study_s"] = marginal[mode]
    serial_total = report["serial"]["cpu_s"]  # type: ignore[index]
    for mode in modes[1:]:
        if mode in marginal:
            report[f"overhead_per_study_marginal_pct_{mode}"] = 100.0 * (
                marginal[mode] / marginal["serial"] - 1.0
            )
        extra = report[mode]["cpu_s"] - serial_total  # type: ignore[index]
        report[f"overhead_per_study_total_pct_{mode}"] = 100.0 * extra / n / marginal["serial"]
    report["speedup_wall_1_to_2"] = (
        report["cohort-1-quiet"]["wall_s"] / report["cohort-2-quiet"]["wall_s"]  # type: ignore[index]
    )
    report["load_avg_end"] = os.getloadavg()
    return report


def _byte_compile_nenscope() -> None:
    """Byte-compile nenscope as pip does when it installs a wheel.

    An editable install run under PYTHONDONTWRITEBYTECODE=1 (CI, containers) compiles every
    nenscope module anew in every process, the workers' fork server included (~0.2 s), which
    no installed nenscope does.
    """
    import subprocess
    import sys

    import nenscope

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(nenscope.__file__).parent)],
        check=True,
        capture_output=True,
    )


def _speedup_round(manifest: Path, work: Path, one: dict[str, float] | None) -> dict[str, Any]:
    """One round: 1 worker (unless given), 2 workers, 1 worker with one thread per analysis.

    The 1-worker baseline runs both as is (two threads per analysis on a 2-core machine) and
    with NENSCOPE_THREADS=1, as each of the 2 workers has
    (:func:`nenscope.cohort.cluster.analysis_threads_environ`); the speed-up is given against
    each and against the faster one. Rounds alternate the runs, so that a slow minute of a
    shared machine does not fall on one side only.
    """
    if one is None:
        one = _cohort(manifest, work / "out-1", 1)
    two = _cohort(manifest, work / "out-2", 2)
    saved = os.environ.get(THREADS_VARIABLE)
    os.environ[THREADS_VARIABLE] = "1"
    try:
        one_1t = _cohort(manifest, work / "out-1t", 1)
    finally:
        if saved is None:
            del os.environ[THREADS_VARIABLE]
        else:
            os.environ[THREADS_VARIABLE] = saved
    return {
        "one_worker_wall_s": one["wall_s"],
        "one_worker_one_thread_wall_s": one_1t["wall_s"],
        "two_workers": two,
        "speedup_wall": one["wall_s"] / two["wall_s"],
        "speedup_wall_one_thread_baseline": one_1t["wall_s"] / two["wall_s"],
        "speedup_wall_faster_baseline": min(one["wall_s"], one_1t["wall_s"]) / two["wall_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=24)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-cohort")
    parser.add_argument("--whole-body", action="store_true")
    parser.add_argument("--no-two", action="store_true", help="skip the 2-worker run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 1 / 2 / 1 (1 thread)")
    parser.add_argument("--whole-body-size", default="default", choices=["default", "clinical"])
    parser.add_argument("--processes", action="store_true", help="whole-process comparison")
    parser.add_argument("--cli", action="store_true", help="with --processes: the CLI loop too")
    args = parser.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    if args.processes:
        print(json.dumps(processes(work, args.studies, args.cli), indent=2))
        return
    _byte_compile_nenscope()
    report: dict[str, object] = {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()}
    manifest = _generate(work, args.studies)
    report["serial"] = serial = _serial(manifest)
    report["one_worker"] = one = _cohort(manifest, work / "out-1", 1)
    n = args.studies
    if not args.no_two:
        rounds = [
            _speedup_round(manifest, work, one if r == 0 else None) for r in range(args.rounds)
        ]
        report["rounds"] = rounds
        report["two_workers"] = two = rounds[0]["two_workers"]
        for key in (
            "speedup_wall",
            "speedup_wall_one_thread_baseline",
            "speedup_wall_faster_baseline",
        ):
            report[key] = statistics.median(r[key] for r in rounds)
            report[f"{key}_range"] = (min(r[key] for r in rounds), max(r[key] for r in rounds))
        report["speedup_cpu_critical_path"] = one["worker_cpu_s"] / two["busiest_worker_cpu_s"]
        report["speedup_process_cpu_critical_path"] = (
            one["busiest_worker_process_cpu_s"] / two["busiest_worker_process_cpu_s"]
        )
    # Overhead of the cohort machinery per study, CPU-based: what the 1-worker run spent in
    # its worker and client beyond the serial analysis, relative to the serial per-study CPU.
    extra = one["worker_cpu_s"] + one["client_cpu_s"] - serial["cpu_s"]
    report["overhead_per_study_cpu_pct"] = 100.0 * extra / n / serial["per_study_cpu_s"]
    report["overhead_median_study_cpu_pct"] = 100.0 * (
        one["median_study_cpu_s"] / serial["median_study_cpu_s"] - 1.0
    )
    report["overhead_per_study_wall_pct"] = (
        100.0 * (one["wall_s"] - serial["wall_s"]) / n / (serial["wall_s"] / n)
    )
    if args.whole_body:
        report["whole_body"] = {
            "size": args.whole_body_size,
            **_whole_body(work, args.whole_body_size),
        }
    report["load_avg_end"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
