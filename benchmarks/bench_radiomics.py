"""Benchmark: full 3D IBSI extraction with nenscope vs PyRadiomics and MIRP.

Usage::

    python benchmarks/bench_radiomics.py [--repeat 3] [--tools nenscope,pyradiomics,mirp]
                                         [--skip-whole] [--out results.json]
    python benchmarks/bench_radiomics.py --single-only --runs 7 --tools nenscope,pyradiomics
    python benchmarks/bench_radiomics.py --cli --runs 7

Two cases on the same synthetic PET-like volume (192 × 192 × 300 voxels, 3.65 × 3.65 × 2.0 mm,
float32 SUV; smoothed noise background, lesions with a radial uptake gradient and smoothed
heterogeneity; seed 20261130):

(a) one lesion of about 30,000 voxels;
(b) 20 lesions of 500 to 5,000 voxels (geometric series), one extraction per lesion.

Every tool computes all its feature families at one discretisation (fixed bin size 0.25 SUV,
IVH 0.1 SUV where the tool has an IVH), 3D, without resampling:

* nenscope: every IBSI 1 family (morphology incl. Moran's I / Geary's C computed exactly,
  local intensity, statistics, intensity histogram, IVH, GLCM, GLRLM, GLSZM, GLDZM, NGTDM,
  NGLDM); it receives the whole volume and the whole-volume mask and crops itself.
* PyRadiomics (``pyradiomics-bhklab``): all classes (first order, shape, GLCM, GLRLM, GLSZM,
  GLDM, NGTDM), given the lesion's bounding box + 10 voxels ("cropped"), as SimpleITK images.
* MIRP: ``base_feature_families="all"``, given the same crops as NIfTI files (MIRP reads
  numpy arrays only with 1 mm spacing), written before timing.

Each tool runs in its own subprocess, twice: once for the in-process timing (a warm-up
extraction first, then ``--repeat`` extractions of lesion (a), best time, and each lesion of
(b) once; wall time and process CPU time, the latter being what to compare on a busy machine)
and once "whole process" (interpreter start, imports, loading the volume, every lesion of (a)
and (b) once, exit), whose wall time, CPU time (user + system) and peak resident memory
(VmHWM) are reported, and a third time "one lesion" (start, imports, the largest lesion of (b),
exit: the cost of a single ``nenscope radiomics`` call; ``--single-only --runs N`` runs only
that, N times per tool with the tools alternating, and reports medians). A peer that is not
installed is skipped with a message (``pip install 'nenscope[bench]'`` installs both).
``--cli`` runs instead the real command lines on that lesion's NIfTI crops,
``nenscope radiomics IMAGE MASK --config bench.yaml --format json`` against
``pyradiomics IMAGE MASK --param bench.yaml`` (the same bin width 0.25, all feature classes),
alternating, max(--runs, 5) times each after one unmeasured run; CPU and peak RSS per child
come from ``wait4``.
Ratios printed: peer time / nenscope time (goal > 1 for PyRadiomics, >= 20 for MIRP) and peer
memory / nenscope memory (goal > 1).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage as ndi

SHAPE = (300, 192, 192)  # (z, y, x)
SPACING = (2.0, 3.65, 3.65)  # mm, (z, y, x)
SEED = 20261130
BIN_WIDTH = 0.25  # SUV
IVH_BIN_WIDTH = 0.1  # SUV
CROP_PAD = 10  # voxels around the bounding box for the "cropped" peers
TOOLS = ("nenscope", "pyradiomics", "mirp")
MODULE = {"nenscope": "nenscope", "pyradiomics": "radiomics", "mirp": "mirp"}


# --- synthetic data -------------------------------------------------------------------------


def _ellipsoid(
    centre: tuple[int, int, int], radius_mm: float
) -> tuple[tuple[slice, slice, slice], npt.NDArray[np.float64]]:
    """Box and normalised squared distance of a sphere of ``radius_mm`` on the grid."""
    half = [int(np.ceil(radius_mm / s)) + 1 for s in SPACING]
    box = tuple(slice(c - h, c + h + 1) for c, h in zip(centre, half, strict=True))
    axes = [
        (np.arange(b.start, b.stop) - c) * s for b, c, s in zip(box, centre, SPACING, strict=True)
    ]
    dz, dy, dx = np.meshgrid(*axes, indexing="ij")
    d2 = (dz**2 + dy**2 + dx**2) / radius_mm**2
    return (box[0], box[1], box[2]), d2


def _radius_for(n_voxels: int) -> float:
    return float((3.0 * n_voxels * np.prod(SPACING) / (4.0 * np.pi)) ** (1.0 / 3.0))


def make_data() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Volume (SUV), label map of case (a) (one lesion) and of case (b) (labels 1..20)."""
    rng = np.random.default_rng(SEED)
    noise = ndi.gaussian_filter(rng.normal(0.0, 1.0, size=SHAPE).astype(np.float32), 1.5)
    image = (1.2 + 2.5 * noise).clip(0.05, None).astype(np.float32)
    het = ndi.gaussian_filter(rng.normal(0.0, 1.0, size=SHAPE).astype(np.float32), 1.0) * 4.0
    label_a = np.zeros(SHAPE, dtype=np.uint8)
    label_b = np.zeros(SHAPE, dtype=np.uint8)

    def add(centre: tuple[int, int, int], n_voxels: int, peak: float, labels: Any, k: int) -> None:
        box, d2 = _ellipsoid(centre, _radius_for(n_voxels))
        inside = d2 <= 1.0
        uptake = peak * (1.0 - 0.6 * d2) + het[box]
        image[box] = np.where(inside, np.maximum(uptake, 0.5), image[box])
        labels[box][inside] = k

    add((150, 96, 96), 30_000, 9.0, label_a, 1)
    sizes = np.geomspace(500, 5000, 20).round().astype(int)
    # Distinct (z, y) slots, clear of each other and of lesion (a) (z 121-179).
    slots_z = (30, 80, 220, 270)
    centres = [(slots_z[i % 4], 40 + 28 * (i // 4), 50 if i % 2 == 0 else 140) for i in range(20)]
    for k, (centre, n) in enumerate(zip(centres, sizes, strict=True), start=1):
        add(centre, int(n), 4.0 + 0.3 * k, label_b, k)
    return image, label_a, label_b


def lesion_boxes(labels: npt.NDArray[np.uint8]) -> list[tuple[int, tuple[slice, ...]]]:
    """Label and bounding box (+ CROP_PAD) of every lesion."""
    out = []
    boxes: list[Any] = ndi.find_objects(labels)  # None for absent labels
    for k, box in enumerate(boxes, start=1):
        if box is None:
            continue
        padded = tuple(
            slice(max(b.start - CROP_PAD, 0), min(b.stop + CROP_PAD, n))
            for b, n in zip(box, labels.shape, strict=True)
        )
        out.append((k, padded))
    return out


# --- tools ---------------------------------------------------------------------------------


def _nenscope_extractor(
    image: npt.NDArray[np.float32], labels: npt.NDArray[np.uint8], data_dir: Path, case: str
) -> Callable[[int, tuple[slice, ...]], int]:
    from nenscope.core import ImageVolume, Unit, affine_from_spacing
    from nenscope.radiomics.extract import extract_features
    from nenscope.radiomics.settings import (
        DiscretisationMethod,
        DiscretisationSettings,
        RadiomicsSettings,
        ResegmentSettings,
    )

    settings = RadiomicsSettings(
        resegment=ResegmentSettings(range_min=0.0),
        discretise=DiscretisationSettings(
            method=DiscretisationMethod.FIXED_BIN_SIZE, bin_size=BIN_WIDTH, lower_bound=0.0
        ),
        ivh=DiscretisationSettings(
            method=DiscretisationMethod.FIXED_BIN_SIZE, bin_size=IVH_BIN_WIDTH, lower_bound=0.0
        ),
    )
    volume = ImageVolume(array=image, affine=affine_from_spacing(SPACING), unit=Unit.SUV_BW)

    def run(k: int, box: tuple[slice, ...]) -> int:
        return len(extract_features(volume, labels == k, settings).features)

    return run


def _pyradiomics_extractor(
    image: npt.NDArray[np.float32], labels: npt.NDArray[np.uint8], data_dir: Path, case: str
) -> Callable[[int, tuple[slice, ...]], int]:
    import SimpleITK as sitk  # noqa: N813
    from radiomics import featureextractor

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = featureextractor.RadiomicsFeatureExtractor(binWidth=BIN_WIDTH)
    extractor.enableAllFeatures()

    def run(k: int, box: tuple[slice, ...]) -> int:
        img = sitk.GetImageFromArray(image[box])
        msk = sitk.GetImageFromArray((labels[box] == k).astype(np.uint8))
        for obj in (img, msk):
            obj.SetSpacing((SPACING[2], SPACING[1], SPACING[0]))  # type: ignore[no-untyped-call]
        result = extractor.execute(img, msk, label=1)
        return sum(1 for key in result if not str(key).startswith("diagnostics"))

    return run


def _mirp_extractor(
    image: npt.NDArray[np.float32], labels: npt.NDArray[np.uint8], data_dir: Path, case: str
) -> Callable[[int, tuple[slice, ...]], int]:
    import warnings

    from mirp import extract_features

    def run(k: int, box: tuple[slice, ...]) -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tables = extract_features(
                image=str(data_dir / f"{case}_{k}_image.nii.gz"),
                mask=str(data_dir / f"{case}_{k}_mask.nii.gz"),
                image_modality="pet",
                base_feature_families="all",
                base_discretisation_method="fixed_bin_size",
                base_discretisation_bin_width=BIN_WIDTH,
                ivh_discretisation_method="fixed_bin_size",
                ivh_discretisation_bin_width=IVH_BIN_WIDTH,
                export_features=True,
                write_features=False,
            )
        return int(tables[0].shape[1]) if tables else 0

    return run


EXTRACTORS = {
    "nenscope": _nenscope_extractor,
    "pyradiomics": _pyradiomics_extractor,
    "mirp": _mirp_extractor,
}


def write_crops_for_mirp(
    data_dir: Path,
    image: npt.NDArray[np.float32],
    cases: dict[str, npt.NDArray[np.uint8]],
) -> None:
    import nibabel as nib

    # NIfTI voxel axes (i, j, k) = (x, y, z): transpose the (z, y, x) arrays.
    affine = np.diag([SPACING[2], SPACING[1], SPACING[0], 1.0])
    for case, labels in cases.items():
        for k, box in lesion_boxes(labels):
            img = np.ascontiguousarray(image[box].transpose(2, 1, 0))
            msk = np.ascontiguousarray((labels[box] == k).astype(np.uint8).transpose(2, 1, 0))
            for name, arr in (("image", img), ("mask", msk)):
                nifti = nib.Nifti1Image(arr, affine)  # type: ignore[no-untyped-call]  # nibabel
                nib.save(nifti, data_dir / f"{case}_{k}_{name}.nii.gz")


# --- worker (runs in a subprocess) -------------------------------------------------------


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB.

    ``ru_maxrss`` survives ``exec`` on Linux (it would report the parent's peak, which holds
    the generated data), so the kernel's per-address-space high-water mark VmHWM is read.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(tool: str, data_dir: Path, mode: str, repeat: int) -> dict[str, Any]:
    image = np.load(data_dir / "image.npy")
    cases = {c: np.load(data_dir / f"labels_{c}.npy") for c in ("a", "b")}
    out: dict[str, Any] = {"tool": tool, "mode": mode}
    runners = {c: EXTRACTORS[tool](image, cases[c], data_dir, c) for c in cases}
    boxes = {c: lesion_boxes(cases[c]) for c in cases}
    if mode == "single":
        # One `nenscope radiomics`-like call: start, imports, one lesion (the largest of (b)).
        k, box = max(boxes["b"], key=lambda kb: int((cases["b"][kb[1]] == kb[0]).sum()))
        out["n_features"] = runners["b"](k, box)
        out["peak_rss_mb"] = _peak_rss_mb()
        return out
    if mode == "whole":
        for c in ("a", "b"):
            for k, box in boxes[c]:
                out["n_features"] = runners[c](k, box)
        out["peak_rss_mb"] = _peak_rss_mb()
        return out
    # In-process: warm up on the smallest lesion of (b) (imports, JIT, caches), then time.
    k0, box0 = boxes["b"][0]
    runners["b"](k0, box0)
    k, box = boxes["a"][0]
    times, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out["n_features"] = runners["a"](k, box)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    out["a_s"] = min(times)
    out["a_cpu_s"] = min(cpus)
    per, per_cpu = [], []
    for k, box in boxes["b"]:
        t0, c0 = time.perf_counter(), time.process_time()
        runners["b"](k, box)
        per.append(time.perf_counter() - t0)
        per_cpu.append(time.process_time() - c0)
    out["b_s"] = sum(per)
    out["b_cpu_s"] = sum(per_cpu)
    out["b_per_lesion_s"] = per
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


# --- driver ------------------------------------------------------------------------------


def _available(tool: str) -> bool:
    return importlib.util.find_spec(MODULE[tool]) is not None


def _run_worker(tool: str, data_dir: Path, mode: str, repeat: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        tool,
        "--data",
        str(data_dir),
        "--mode",
        mode,
        "--repeat",
        str(repeat),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} {mode} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    result["cpu_s"] = cpu
    return result


def _ratio(peer: float | None, ours: float | None) -> str:
    if peer is None or ours is None or ours == 0:
        return "-"
    return f"{peer / ours:.2f}x"


def _print_ratios(results: dict[str, dict[str, Any]], *, single_only: bool) -> None:
    ours = results.get("nenscope")
    if not ours:
        return
    for peer in ("pyradiomics", "mirp"):
        if peer not in results:
            continue
        p = results[peer]
        if single_only:
            print(
                f"one lesion, whole process, {peer}/nenscope: CPU "
                f"{_ratio(p.get('single_cpu_s'), ours.get('single_cpu_s'))}  peak memory "
                f"{_ratio(p.get('single_peak_rss_mb'), ours.get('single_peak_rss_mb'))} "
                "(goal >= 1.0x for both)"
            )
            continue
        print(
            f"ratio {peer}/nenscope: (a) {_ratio(p['a_s'], ours['a_s'])} "
            f"(CPU {_ratio(p['a_cpu_s'], ours['a_cpu_s'])})  "
            f"(b) {_ratio(p['b_s'], ours['b_s'])} "
            f"(CPU {_ratio(p['b_cpu_s'], ours['b_cpu_s'])})  "
            f"whole {_ratio(p.get('whole_s'), ours.get('whole_s'))} "
            f"(CPU {_ratio(p.get('whole_cpu_s'), ours.get('whole_cpu_s'))})  "
            f"peak memory {_ratio(p.get('whole_peak_rss_mb'), ours.get('whole_peak_rss_mb'))}"
        )
        print(
            f"one lesion, whole process, {peer}/nenscope: CPU "
            f"{_ratio(p.get('single_cpu_s'), ours.get('single_cpu_s'))}  peak memory "
            f"{_ratio(p.get('single_peak_rss_mb'), ours.get('single_peak_rss_mb'))} "
            "(goal >= 1.0x for both)"
        )


def _single_runs(tools: list[str], data_dir: Path, runs: int) -> dict[str, dict[str, Any]]:
    """``runs`` one-lesion whole-process runs per tool, tools alternating; medians."""
    samples: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    for _ in range(max(runs, 1)):
        for tool in tools:  # alternating: a load swing hits every tool alike
            samples[tool].append(_run_worker(tool, data_dir, "single", 1))
    results: dict[str, dict[str, Any]] = {}
    for tool, runs_of_tool in samples.items():
        cpu = [r["cpu_s"] for r in runs_of_tool]
        results[tool] = {
            "single_s": float(np.median([r["wall_s"] for r in runs_of_tool])),
            "single_cpu_s": float(np.median(cpu)),
            "single_peak_rss_mb": float(np.median([r["peak_rss_mb"] for r in runs_of_tool])),
            "single_cpu_s_all": cpu,
        }
        res = results[tool]
        print(
            f"{tool:12s} one lesion, whole process, median of {len(cpu)}: "
            f"{res['single_s']:.2f} s (CPU {res['single_cpu_s']:.2f} s, range "
            f"{min(cpu):.2f}-{max(cpu):.2f}; peak RSS {res['single_peak_rss_mb']:.0f} MB)"
        )
    return results


NENSCOPE_CLI_YAML = """\
description: bench_radiomics one lesion (as its worker), fixed bin size 0.25 from 0
approach: 3d
resegment:
  range: [0.0, null]
discretise:
  method: fixed-bin-size
  bin_size: 0.25
  lower_bound: 0.0
ivh:
  method: fixed-bin-size
  bin_size: 0.1
  lower_bound: 0.0
"""
PYRADIOMICS_CLI_YAML = f"setting:\n  binWidth: {BIN_WIDTH}\n"


_LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime,
                  usage.ru_maxrss / 1024.0]))
"""
"""Forks the command from a bare interpreter: a child's ru_maxrss counts the pages it
inherits at fork, so it must not be forked from this process (numpy, SciPy, the data)."""


def _timed_child(cmd: list[str]) -> tuple[float, float, float]:
    """Run ``cmd``; return its wall time, CPU (user + system) and peak RSS in MB (wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-S", "-c", _LAUNCHER, *cmd],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    code, cpu, rss = json.loads(proc.stdout.strip().splitlines()[-1])
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({code}):\n{proc.stderr[-3000:]}")
    return wall, float(cpu), float(rss)


def _cli_runs(data_dir: Path, runs: int) -> None:
    """The two command lines on the largest lesion of (b), alternating; medians and ratio."""
    bindir = Path(sys.executable).parent
    subprocess.run([sys.executable, __file__, "--cli-prepare", str(data_dir)], check=True)
    labels = np.load(data_dir / "labels_b.npy")
    k = int(np.argmax(np.bincount(labels.ravel())[1:])) + 1
    image, mask = data_dir / f"b_{k}_image.nii.gz", data_dir / f"b_{k}_mask.nii.gz"
    (data_dir / "nenscope.yaml").write_text(NENSCOPE_CLI_YAML)
    (data_dir / "pyradiomics.yaml").write_text(PYRADIOMICS_CLI_YAML)
    commands = {
        "nenscope": [
            str(bindir / "nenscope"), "radiomics", str(image), str(mask),
            "--config", str(data_dir / "nenscope.yaml"), "--format", "json",
        ],
        "pyradiomics": [
            str(bindir / "pyradiomics"), str(image), str(mask),
            "--param", str(data_dir / "pyradiomics.yaml"),
        ],
    }  # fmt: skip
    for cmd in commands.values():
        if not Path(cmd[0]).exists():
            print(
                f"SKIP command lines: {cmd[0]} is not installed (pip install 'nenscope[bench]')."
            )
            return
    # Byte-compile nenscope as pip does when it installs a wheel: an editable install run under
    # PYTHONDONTWRITEBYTECODE=1 (CI, containers) would otherwise recompile every nenscope module
    # on every call (~0.1 s CPU), while PyRadiomics' modules are compiled in site-packages.
    import nenscope

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(nenscope.__file__).parent)],
        check=True,
        capture_output=True,
    )
    for cmd in commands.values():
        _timed_child(cmd)  # warm the file cache, not measured
    samples: dict[str, list[tuple[float, float, float]]] = {t: [] for t in commands}
    for _ in range(max(runs, 5)):
        for tool, cmd in commands.items():  # alternating: a load swing hits both alike
            samples[tool].append(_timed_child(cmd))
    med = {}
    for tool, rows in samples.items():
        wall, cpu, rss = (float(np.median([r[i] for r in rows])) for i in range(3))
        med[tool] = (wall, cpu, rss)
        cpus = [r[1] for r in rows]
        print(
            f"command line {tool:12s} lesion b{k} ({int((labels == k).sum())} voxels), median of "
            f"{len(rows)}: {wall:.2f} s (CPU {cpu:.2f} s, range {min(cpus):.2f}-{max(cpus):.2f}; "
            f"peak RSS {rss:.0f} MB)"
        )
    p, n = med["pyradiomics"], med["nenscope"]
    print(
        f"command line, pyradiomics/nenscope: CPU {_ratio(p[1], n[1])}  peak memory "
        f"{_ratio(p[2], n[2])}  wall {_ratio(p[0], n[0])} (goal >= 1.0x for CPU and memory)"
    )


def _cli_main(prepare: Path | None, runs: int) -> None:
    if prepare is not None:  # the child that writes the volume's lesion crops
        image, _, label_b = make_data()
        np.save(prepare / "labels_b.npy", label_b)
        write_crops_for_mirp(prepare, image, {"b": label_b})
        return
    with tempfile.TemporaryDirectory() as tmp:
        _cli_runs(Path(tmp), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--skip-whole", action="store_true")
    parser.add_argument(
        "--single-only", action="store_true", help="only the one-lesion whole-process runs"
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="one-lesion whole-process runs per tool, tools alternating; medians reported",
    )
    parser.add_argument(
        "--cli",
        action="store_true",
        help="only the command lines `nenscope radiomics` vs `pyradiomics` on one lesion "
        "(NIfTI crops), alternating, medians of max(--runs, 5)",
    )
    parser.add_argument("--cli-prepare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", choices=TOOLS)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--mode", choices=("inprocess", "whole", "single"), default="inprocess")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.data, args.mode, args.repeat)))
        return
    if args.cli_prepare or args.cli:
        _cli_main(args.cli_prepare, args.runs)
        return
    tools = [t for t in args.tools.split(",") if t]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        image, label_a, label_b = make_data()
        np.save(data_dir / "image.npy", image)
        np.save(data_dir / "labels_a.npy", label_a)
        np.save(data_dir / "labels_b.npy", label_b)
        sizes_b = np.bincount(label_b.ravel())[1:]
        print(
            f"volume {SHAPE[2]}x{SHAPE[1]}x{SHAPE[0]} (x,y,z) at {SPACING[2]}x{SPACING[1]}x"
            f"{SPACING[0]} mm; (a) 1 lesion of {int(label_a.sum())} voxels; (b) "
            f"{sizes_b.size} lesions of {sizes_b.min()}-{sizes_b.max()} voxels"
        )
        if "mirp" in tools and _available("mirp"):
            write_crops_for_mirp(data_dir, image, {"a": label_a, "b": label_b})
        for tool in tools:
            if not _available(tool):
                print(f"SKIP {tool}: not installed (pip install 'nenscope[bench]').")
                continue
            if args.single_only:
                continue
            res = _run_worker(tool, data_dir, "inprocess", args.repeat)
            if not args.skip_whole:
                whole = _run_worker(tool, data_dir, "whole", 1)
                res["whole_s"] = whole["wall_s"]
                res["whole_cpu_s"] = whole["cpu_s"]
                res["whole_peak_rss_mb"] = whole["peak_rss_mb"]
                single = _run_worker(tool, data_dir, "single", 1)
                res["single_s"] = single["wall_s"]
                res["single_cpu_s"] = single["cpu_s"]
                res["single_peak_rss_mb"] = single["peak_rss_mb"]
            results[tool] = res
            print(
                f"{tool:12s} features {res['n_features']:4d}  (a) {res['a_s']:.3f} s "
                f"(CPU {res['a_cpu_s']:.3f} s)  (b) {res['b_s']:.3f} s "
                f"(CPU {res['b_cpu_s']:.3f} s; {res['b_s'] / 20:.3f} s/lesion)  "
                f"whole process {res.get('whole_s', float('nan')):.1f} s "
                f"(CPU {res.get('whole_cpu_s', float('nan')):.1f} s)  "
                f"peak RSS {res.get('whole_peak_rss_mb', float('nan')):.0f} MB  "
                f"one lesion, whole process {res.get('single_s', float('nan')):.2f} s "
                f"(CPU {res.get('single_cpu_s', float('nan')):.2f} s, peak RSS "
                f"{res.get('single_peak_rss_mb', float('nan')):.0f} MB)"
            )
        if args.single_only:
            results = _single_runs([t for t in tools if _available(t)], data_dir, args.runs)
    _print_ratios(results, single_only=args.single_only)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
