"""Benchmark: ``analyze`` on a whole-body PET/CT at clinical size, timed per stage.

The study is the phantom generator's ``clinical`` preset: PET 200 × 200 × 600 (3 × 3 × 1.5 mm),
CT 512 × 512 × 600, Ga-68 DOTATATE, 6 mm FWHM blur and noise. The analysis runs end to end with
every output (figures, HTML, PDF, SEG, SR) in a fresh child process, so that its peak resident
memory is the analysis's own. Goals: under 30 s on 2 cores, peak memory under 4 GB (issue 4);
under 10 s (issue 10). Each stage prints its wall and its CPU time: on a shared machine the CPU
time is the one to compare.

Usage::

    python benchmarks/bench_analyze.py [--workdir DIR] [--size clinical|default|small]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GOAL_S = 10.0
GOAL_GB = 4.0
KIB_PER_GB = 1024.0**2


def _generate(study: Path, size: str) -> float:
    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

    start = time.perf_counter()
    write_phantom_study(
        study,
        PhantomSettings(size=size, seed=11, fwhm_mm=6.0, noise=0.1, ct_noise_hu=10.0),
        overwrite=True,
    )
    return time.perf_counter() - start


def _count_stage_cpu() -> tuple[dict[str, float], dict[str, float]]:
    """Make every pipeline stage also add its CPU time to the returned dicts.

    On a shared machine the wall time of a stage says more about the other users than about
    the stage; its CPU time does not. The first dict counts all threads, the second the thread
    that runs the stage: the difference is what ran beside it (the output libraries imported in
    the background during "reference regions" and "lesions", nenscope.pipeline.preload).
    """
    from nenscope.pipeline.stages import Stages

    cpu: dict[str, float] = {}
    own: dict[str, float] = {}
    wall_stage = Stages.stage

    @contextmanager
    def stage(self: Stages, name: str) -> Iterator[None]:
        start, start_own = time.process_time(), time.thread_time()
        try:
            with wall_stage(self, name):
                yield
        finally:
            cpu[name] = cpu.get(name, 0.0) + time.process_time() - start
            own[name] = own.get(name, 0.0) + time.thread_time() - start_own

    Stages.stage = stage  # type: ignore[method-assign]
    return cpu, own


def _analyse(study: Path, out: Path) -> None:
    """Child process: analyse and print timings and peak RSS as JSON."""
    start = time.perf_counter()
    cpu_start = time.process_time()
    from nenscope.pipeline import analyze_study

    import_s = time.perf_counter() - start
    import_cpu_s = time.process_time() - cpu_start
    stage_cpu, stage_own_cpu = _count_stage_cpu()
    result = analyze_study(study, out)
    total = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kib = usage.ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "import_s": import_s,
                "import_cpu_s": import_cpu_s,
                "stages_s": dict(result.timings_s),
                "stages_cpu_s": stage_cpu,
                "stages_thread_cpu_s": stage_own_cpu,
                "total_s": total,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "peak_rss_gb": peak_kib / KIB_PER_GB,
                "lesions": len(result.report.lesions),
                "errors": list(result.errors),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--size", default="clinical")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _analyse(*args.child)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nenscope-bench-"))
    study, out = workdir / "study", workdir / "out"
    gen_s = _generate(study, args.size)
    print(f"generated {args.size} phantom in {gen_s:.1f} s at {study}")
    run = subprocess.run(
        [sys.executable, __file__, "--child", str(study), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(run.stdout.strip().splitlines()[-1])
    # CPU s: all threads; own CPU s: the stage's thread (the rest ran beside it, e.g. the
    # output libraries imported in the background while the lesions are found).
    print(f"{'stage':24s} {'wall s':>7s} {'CPU s':>7s} {'own CPU s':>9s}")
    print(f"{'imports':24s} {data['import_s']:7.2f} {data['import_cpu_s']:7.2f}")
    for stage, seconds in data["stages_s"].items():
        cpu = data["stages_cpu_s"].get(stage, 0.0)
        own = data["stages_thread_cpu_s"].get(stage, 0.0)
        print(f"{stage:24s} {seconds:7.2f} {cpu:7.2f} {own:9.2f}")
    print(f"{'total (wall)':24s} {data['total_s']:7.2f}   goal < {GOAL_S:g} s")
    # CPU time shows what the analysis itself costs when the machine is shared.
    print(f"{'total (CPU, all threads)':24s} {data['cpu_s']:7.2f}")
    print(f"peak RSS {data['peak_rss_gb']:.2f} GB   goal < {GOAL_GB:g} GB")
    print(f"lesions {data['lesions']}; errors {data['errors']}")
    print(f"outputs in {out}")


if __name__ == "__main__":
    main()
