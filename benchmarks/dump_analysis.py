"""Dump what an analysis found, to prove that a speed change did not change a result.

For each study the analysis runs in memory (``analyze``, figures off: they are pictures of the
same numbers) and the dump holds, exactly (``repr`` of every float):

* the lesions in report order: number, SUVmax / mean / peak, volumes and every other quantity,
  site, body region, centroid, detection text, candidate reason;
* the SHA-256 of the lesion label map (dtype, shape and bytes) and of the SUV grid;
* the reference regions: statistics, placement text and the SHA-256 of each mask;
* the physiological uptake list, the warnings, the implausibility lines, the anatomy lines,
  the scores and the target lesions;
* the whole report as plain JSON (figures, creation time and stage timings left out).

Studies: a folder of DICOM files, or ``bench`` (the ``clinical`` phantom of
``bench_analyze.py``, seed 11) or ``demo`` (the ``nenscope demo`` default phantom); generated
studies are written under ``--workdir`` once and reused.

Usage::

    python benchmarks/dump_analysis.py dump OUT.json [STUDY ...]
    python benchmarks/dump_analysis.py compare OLD.json NEW.json

Without studies, ``dump`` runs the four of issue 10's speed work: the GE and ACRIN FDG
PET/CTs of ``../shared/data/dicom``, ``bench`` and ``demo``. ``compare`` prints every value
that differs and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED_DICOM = ROOT.parent / "shared" / "data" / "dicom"
DEFAULT_STUDIES = (
    str(SHARED_DICOM / "tcia-sts-001-ge-petct"),
    str(SHARED_DICOM / "tcia-acrin-nsclc-fdg-042"),
    "bench",
    "demo",
)
LONG_TEXT = 200
"""Strings longer than this in the plain report (compressed arrays) are stored as a hash."""


def _hash_array(array: Any) -> str | None:
    if array is None:
        return None
    data = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{data.dtype.str}{data.shape}".encode())
    digest.update(data.tobytes())
    return digest.hexdigest()


def _exact(value: Any) -> Any:
    """JSON-safe copy where every float is its repr (no rounding hides a change)."""
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, dict):
        return {str(k): _exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(v) for v in value]
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    if isinstance(value, np.integer):
        return int(value)
    return value


def _study_path(name: str, workdir: Path) -> Path:
    if name not in ("bench", "demo"):
        return Path(name)
    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

    folder = workdir / name
    if not (folder / ".complete").exists():
        settings = (
            PhantomSettings(size="clinical", seed=11, fwhm_mm=6.0, noise=0.1, ct_noise_hu=10.0)
            if name == "bench"
            else PhantomSettings(
                tracer="ga68-dotatate",
                size="default",
                seed=0,
                fwhm_mm=6.0,
                noise=0.1,
                ct_noise_hu=10.0,
            )
        )
        write_phantom_study(folder, settings, overwrite=True)
        (folder / ".complete").write_text("written by dump_analysis.py\n")
    return folder


def dump_one(study: Path) -> dict[str, Any]:
    """Analyse ``study`` in memory and return its dump."""
    from nenscope.pipeline import analyze
    from nenscope.pipeline.model import AnalysisOptions
    from nenscope.pipeline.serialize import to_plain

    start = time.process_time()
    result = analyze(study, AnalysisOptions(figures=False))
    cpu_s = time.process_time() - start
    report = result.report
    lesions = [
        {
            "id": entry.id,
            "centroid_mm": entry.centroid_mm,
            "quantities": {
                name: [q.value, q.unit, q.method, q.reason] for name, q in entry.quantities.items()
            },
            "site": entry.site,
            "body_region": entry.body_region,
            "detection": entry.detection,
            "candidate_reason": entry.candidate_reason,
            "krenning": entry.krenning,
        }
        for entry in report.lesions
    ]
    references = {
        name: {
            "plain": {k: v for k, v in to_plain(region).items() if not isinstance(v, dict | list)},
            "mask_sha256": _hash_array(getattr(region, "mask", None)),
        }
        for name, region in result.references.items()
    }
    plain_report = to_plain(dataclasses.replace(report, figures=type(report.figures)()))
    plain_report.pop("created", None)
    return {
        "study": str(study),
        "cpu_s_not_compared": cpu_s,
        "lesions": _exact(lesions),
        "labels_sha256": _hash_array(result.labels),
        "suv_sha256": None if result.study is None else _hash_array(result.study.suv.array),
        "references": _exact(references),
        "report_references": _exact(to_plain(report.references)),
        "physiological": _exact(to_plain(report.physiological)),
        "warnings": list(report.warnings),
        "errors": list(report.errors),
        "implausible": list(report.implausible),
        "anatomy": _exact(report.anatomy),
        "scores": _exact(to_plain(report.scores)),
        "target_ids": report.target_ids,
        "statistics": _exact(to_plain(result.statistics)),
        "report": _exact(plain_report),
    }


def _differences(old: Any, new: Any, where: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            if key.endswith("_not_compared"):
                continue
            if key not in old or key not in new:
                out.append(f"{where}.{key}: only in {'new' if key in new else 'old'}")
            else:
                out.extend(_differences(old[key], new[key], f"{where}.{key}"))
        return out
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{where}: {len(old)} items -> {len(new)}"]
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out.extend(_differences(a, b, f"{where}[{i}]"))
        return out
    return [] if old == new else [f"{where}: {old!r} -> {new!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dump = sub.add_parser("dump")
    dump.add_argument("out", type=Path)
    dump.add_argument("studies", nargs="*", default=list(DEFAULT_STUDIES))
    dump.add_argument("--workdir", type=Path, default=Path("/tmp/nenscope-dump-studies"))
    compare = sub.add_parser("compare")
    compare.add_argument("old", type=Path)
    compare.add_argument("new", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        args.workdir.mkdir(parents=True, exist_ok=True)
        dumps = {}
        for name in args.studies:
            dumps[name] = dump_one(_study_path(name, args.workdir))
            print(
                f"{name}: {len(dumps[name]['lesions'])} lesions, "
                f"{dumps[name]['cpu_s_not_compared']:.1f} s CPU",
                flush=True,
            )
        args.out.write_text(json.dumps(dumps, indent=1, sort_keys=True))
        return
    old = json.loads(args.old.read_text())
    new = json.loads(args.new.read_text())
    diffs = _differences(old, new, "")
    for line in diffs[:200]:
        print(line)
    print(f"{len(diffs)} difference(s)" if diffs else "identical")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
