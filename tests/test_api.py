"""nenscope.api: analyze() computes and writes nothing; results round-trip; threads = serial."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pydicom
import pytest

from nenscope import api
from nenscope.core.errors import StoredResultError, WorkbenchError
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.reporting import lesions_to_json, render_html, report_to_json


def _tree(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("api") / "study"
    write_phantom_study(root, PhantomSettings(size="small", seed=5))
    return root


@pytest.fixture(scope="module")
def result(study: Path) -> api.AnalysisResult:
    before = _tree(study.parent)
    out = api.analyze(study)
    assert _tree(study.parent) == before, "analyze() wrote into the study's folder"
    return out


def _comparable(result: api.AnalysisResult) -> dict[str, Any]:
    """The stored result without what differs between two runs of one study (time)."""
    data = result.to_dict()
    data.pop("timings_s")
    data["report"].pop("created")
    if data.get("fdg"):
        data["fdg"].pop("timings_s")
        data["fdg"]["report"].pop("created")
    return data


def test_analyze_computes_without_writing(result: api.AnalysisResult) -> None:
    assert result.is_complete, result.errors
    assert result.files == {}
    assert result.report.lesions
    assert result.report.figures.mip_png is not None


def test_analyze_accepts_files_and_datasets(study: Path, result: api.AnalysisResult) -> None:
    files = sorted(p for p in study.rglob("*.dcm"))
    from_files = api.analyze([str(p) for p in files])
    datasets = [pydicom.dcmread(p) for p in files]
    from_memory = api.analyze(datasets)
    expected = _comparable(result)
    assert _comparable(from_files) == expected
    assert _comparable(from_memory) == expected
    # The datasets were not modified (pixel data still there).
    assert all("PixelData" in ds for ds in datasets)


def test_round_trip_is_json_safe_and_rerenders_the_same_report(
    result: api.AnalysisResult,
) -> None:
    stored = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    restored = api.AnalysisResult.from_dict(stored)
    assert restored.study is None
    assert render_html(restored.report) == render_html(result.report)
    assert report_to_json(restored.report) == report_to_json(result.report)
    assert lesions_to_json(restored.report) == lesions_to_json(result.report)
    assert restored.to_dict() == result.to_dict()
    assert restored.labels is not None
    assert result.labels is not None
    assert (restored.labels == result.labels).all()
    assert restored.references["liver"].mask.sum() == result.references["liver"].mask.sum()


def test_from_dict_refuses_other_data() -> None:
    with pytest.raises(StoredResultError, match="format"):
        api.AnalysisResult.from_dict({"lesions": []})
    with pytest.raises(WorkbenchError, match="format_version"):
        api.AnalysisResult.from_dict({"format": "nenscope-analysis", "format_version": 99})


def test_write_outputs_equals_analyze_study(
    study: Path, result: api.AnalysisResult, tmp_path: Path
) -> None:
    written = api.write_outputs(result, tmp_path / "a")
    assert set(written.files) >= {"lesions_json", "report_json", "report_html", "seg", "sr"}
    direct = api.analyze_study(study, tmp_path / "b")
    assert (tmp_path / "a" / "lesions.json").read_text() == (
        tmp_path / "b" / "lesions.json"
    ).read_text()
    assert direct.files.keys() == written.files.keys()


def test_restored_result_writes_the_report_files(
    result: api.AnalysisResult, tmp_path: Path
) -> None:
    restored = api.AnalysisResult.from_dict(result.to_dict())
    written = api.write_outputs(restored, tmp_path)
    assert (tmp_path / "lesions.json").read_text() == lesions_to_json(result.report)
    assert "seg" not in written.files  # no images stored: no SEG/SR


def test_four_threads_give_the_serial_results(tmp_path: Path) -> None:
    studies = []
    tracers = ("ga68-dotatate", "fdg", "cu64-dotatate", "ga68-dotatate")
    for seed, tracer in zip((11, 12, 13, 14), tracers, strict=True):
        folder = tmp_path / f"study{seed}"
        settings = PhantomSettings(size="small", seed=seed, tracer=tracer, noise=0.1)
        write_phantom_study(folder, settings)
        studies.append(folder)
    options = api.AnalysisOptions(pdf=False, dicom_outputs=False)
    serial = [_comparable(api.analyze(s, options)) for s in studies]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = [_comparable(r) for r in pool.map(lambda s: api.analyze(s, options), studies)]
    assert threaded == serial
    # The studies differ, so equality is not trivially one result four times.
    assert len({json.dumps(r["statistics"]) for r in serial}) == 4
