"""Benchmark: ``analyze`` on a whole-body PET/CT at clinical size, timed per stage.

The study is the phantom generator's ``clinical`` preset: PET 200 × 200 × 600 (3 × 3 × 1.5 mm),
CT 512 × 512 × 600, Ga-68 DOTATATE, 6 mm FWHM blur and noise. The analysis runs end to end with
every output (figures, HTML, PDF, SEG, SR) in a fresh child process, so that its peak resident
memory is the analysis's own. Goal (issue 4): under 30 s on 2 cores, peak memory under 4 GB.

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
from pathlib import Path

GOAL_S = 30.0
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


def _analyse(study: Path, out: Path) -> None:
    """Child process: analyse and print timings and peak RSS as JSON."""
    start = time.perf_counter()
    from nenscope.pipeline import analyze_study

    import_s = time.perf_counter() - start
    result = analyze_study(study, out)
    total = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kib = usage.ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "import_s": import_s,
                "stages_s": dict(result.timings_s),
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
    print(f"{'stage':24s} {'s':>7s}")
    print(f"{'imports':24s} {data['import_s']:7.2f}")
    for stage, seconds in data["stages_s"].items():
        print(f"{stage:24s} {seconds:7.2f}")
    print(f"{'total (wall)':24s} {data['total_s']:7.2f}   goal < {GOAL_S:g} s")
    # CPU time shows what the analysis itself costs when the machine is shared.
    print(f"{'total (CPU, all threads)':24s} {data['cpu_s']:7.2f}")
    print(f"peak RSS {data['peak_rss_gb']:.2f} GB   goal < {GOAL_GB:g} GB")
    print(f"lesions {data['lesions']}; errors {data['errors']}")
    print(f"outputs in {out}")


if __name__ == "__main__":
    main()
