"""Cohort scaling on this machine: 1 vs 2 worker processes, overhead vs serial, worker memory.

Usage: ``python benchmarks/bench_cohort.py [--studies 24] [--work DIR] [--whole-body]``

1. Generates N small synthetic studies (cached in --work).
2. Serial baseline: the same per-study analysis (``nenscope.cohort.adapter``) in one process,
   one study after the other (wall and CPU time).
3. ``run_cohort`` with a LocalCluster of 1 and of 2 worker processes (fresh output folders).
4. Reports wall-clock speed-up, and CPU-time-based numbers that a machine shared with other
   work does not distort: per-study worker CPU time, the busiest worker's CPU time, and the
   overhead per study of the cohort machinery against the serial baseline.
5. ``--whole-body``: one clinical-size study on 1 worker; the worker's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from nenscope.cohort import ClusterSpec, read_manifest, run_cohort
from nenscope.cohort.adapter import analyze_for_cohort
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study


def _generate(work: Path, n: int) -> Path:
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


def _cohort(manifest: Path, out: Path, workers: int) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    entries = read_manifest(manifest)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    summary = run_cohort(entries, out, cluster=ClusterSpec(workers=workers, dashboard=False))
    wall, client_cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    per_worker: dict[int, float] = {}
    for o in summary.outcomes:
        per_worker[o.worker_pid] = per_worker.get(o.worker_pid, 0.0) + o.cpu_seconds
    return {
        "wall_s": wall,
        "client_cpu_s": client_cpu,
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
    folder = work / f"wholebody-{size}"
    if not (folder / "truth.json").is_file():
        write_phantom_study(folder, PhantomSettings(size="clinical", seed=1, noise=0.05))
    manifest = work / "manifest-wholebody.csv"
    manifest.write_text(f"study\n{folder}\n", encoding="utf-8")
    result = _cohort(manifest, work / "out-wholebody", 1)
    size_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
    return {**result, "study_mb": size_mb}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=24)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-cohort")
    parser.add_argument("--whole-body", action="store_true")
    parser.add_argument("--no-two", action="store_true", help="skip the 2-worker run")
    parser.add_argument("--whole-body-size", default="default", choices=["default", "clinical"])
    args = parser.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {"cpus": os.cpu_count(), "load_avg_start": os.getloadavg()}
    manifest = _generate(work, args.studies)
    report["serial"] = serial = _serial(manifest)
    report["one_worker"] = one = _cohort(manifest, work / "out-1", 1)
    n = args.studies
    if not args.no_two:
        report["two_workers"] = two = _cohort(manifest, work / "out-2", 2)
        report["speedup_wall"] = one["wall_s"] / two["wall_s"]
        report["speedup_cpu_critical_path"] = one["worker_cpu_s"] / two["busiest_worker_cpu_s"]
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
