"""DICOM SEG and TID 1500 SR: written with highdicom, valid for dciodvfy, read back unchanged."""

from __future__ import annotations

import gc
import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from nenscope.core.errors import WorkbenchError
from nenscope.dicom.seg_sr import (
    SegmentKind,
    SegmentSpec,
    SrMeasurementGroup,
    read_seg,
    read_sr,
    write_seg,
    write_sr,
)
from tests.dicom_factories import write_pet_series

N_SLICES, ROWS, COLS = 6, 16, 20
Written = tuple[Path, Path, list[pydicom.Dataset]]


def _pet_series(folder: Path) -> list[pydicom.Dataset]:
    """A tiny but complete PET series (single-frame PET Image Storage), written to ``folder``."""
    zeros = np.zeros((N_SLICES, ROWS, COLS), dtype=np.uint16)
    return write_pet_series(folder, zeros, slice_spacing_mm=4.0, patient=("TEST^SEG", "SEG1"))


def _labels() -> np.ndarray:
    labels = np.zeros((N_SLICES, ROWS, COLS), dtype=np.uint8)
    labels[1:3, 4:8, 5:9] = 1  # lesion 1
    labels[3:5, 10:13, 12:16] = 2  # lesion 2
    labels[0:2, 10:14, 1:4] = 3  # liver reference
    return labels


SEGMENTS = (
    SegmentSpec(number=1, label="Lesion 1", kind=SegmentKind.LESION),
    SegmentSpec(number=2, label="Lesion 2", kind=SegmentKind.LESION),
    SegmentSpec(number=3, label="Liver reference", kind=SegmentKind.LIVER),
)


def _dciodvfy(path: Path) -> str:
    if shutil.which("dciodvfy") is None:
        pytest.fail("dciodvfy missing: install dicom3tools (.ci/run does).")
    result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


def _errors(report: str) -> list[str]:
    return [line for line in report.splitlines() if line.startswith("Error")]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    root = tmp_path_factory.mktemp("segsr")
    headers = _pet_series(root / "PET")
    info = write_seg(root / "seg.dcm", _labels(), SEGMENTS, headers)
    groups = [
        SrMeasurementGroup(
            segment_number=1,
            tracking_id="Lesion 1",
            tracking_uid=info.tracking_uids[1],
            kind=SegmentKind.LESION,
            suvmax=12.5,
            suvpeak=9.75,
            suvmean=6.125,
            volume_ml=2.048,
            tlg=12.544,
            krenning=4,
        ),
        SrMeasurementGroup(
            segment_number=2,
            tracking_id="Lesion 2",
            tracking_uid=info.tracking_uids[2],
            kind=SegmentKind.LESION,
            suvmax=3.5,
            suvpeak=None,
            suvmean=2.25,
            volume_ml=0.768,
            tlg=1.728,
            krenning=2,
        ),
        SrMeasurementGroup(
            segment_number=3,
            tracking_id="Liver reference",
            tracking_uid=info.tracking_uids[3],
            kind=SegmentKind.LIVER,
            suvmean=5.5,
            volume_ml=0.96,
        ),
    ]
    write_sr(root / "sr.dcm", groups, seg_path=root / "seg.dcm", source_images=headers)
    return root / "seg.dcm", root / "sr.dcm", headers


def test_seg_reads_back_to_same_label_map(
    written: Written,
) -> None:
    seg_path, _, headers = written
    labels, names = read_seg(seg_path, [str(h.SOPInstanceUID) for h in headers])
    np.testing.assert_array_equal(labels, _labels())
    assert names == {1: "Lesion 1", 2: "Lesion 2", 3: "Liver reference"}


def test_seg_references_source_pet_series(
    written: Written,
) -> None:
    seg_path, _, headers = written
    seg = pydicom.dcmread(seg_path)
    assert seg.Modality == "SEG"
    assert seg.FrameOfReferenceUID == headers[0].FrameOfReferenceUID
    ref_series = seg.ReferencedSeriesSequence[0]
    assert ref_series.SeriesInstanceUID == headers[0].SeriesInstanceUID
    referenced = {item.ReferencedSOPInstanceUID for item in ref_series.ReferencedInstanceSequence}
    assert referenced <= {h.SOPInstanceUID for h in headers}


def test_sr_reads_back_to_same_numbers(written: Written) -> None:
    seg_path, sr_path, _ = written
    groups = read_sr(sr_path)
    assert [g.segment_number for g in groups] == [1, 2, 3]
    first, second, liver = groups
    # The values are binary fractions, so the DS (decimal string) round trip is exact.
    assert (first.suvmax, first.suvpeak, first.suvmean) == (12.5, 9.75, 6.125)
    assert first.volume_ml == pytest.approx(2.048, rel=1e-12)
    assert first.tlg == pytest.approx(12.544, rel=1e-12)
    assert first.krenning == 4
    assert second.suvpeak is None
    assert second.krenning == 2
    assert liver.kind is SegmentKind.LIVER
    assert liver.suvmean == 5.5
    assert liver.suvmax is None
    seg = pydicom.dcmread(seg_path)
    tracking = {int(s.SegmentNumber): s.TrackingUID for s in seg.SegmentSequence}
    assert [g.tracking_uid for g in groups] == [tracking[1], tracking[2], tracking[3]]


def test_sr_references_seg_and_pet(written: Written) -> None:
    seg_path, sr_path, headers = written
    sr = pydicom.dcmread(sr_path)
    seg = pydicom.dcmread(seg_path, stop_before_pixels=True)
    evidence = {
        inst.ReferencedSOPInstanceUID
        for study in sr.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for inst in series.ReferencedSOPSequence
    }
    assert seg.SOPInstanceUID in evidence
    assert {h.SOPInstanceUID for h in headers} <= evidence
    assert sr.PatientID == "SEG1"


def test_seg_passes_dciodvfy(written: Written) -> None:
    report = _dciodvfy(written[0])
    assert not _errors(report), report


def test_sr_passes_dciodvfy(written: Written) -> None:
    report = _dciodvfy(written[1])
    assert not _errors(report), report


def test_empty_segmentation_is_refused(tmp_path: Path) -> None:
    headers = _pet_series(tmp_path / "PET")
    empty = np.zeros((N_SLICES, ROWS, COLS), dtype=np.uint8)
    with pytest.raises(WorkbenchError, match="segmentation is empty"):
        write_seg(tmp_path / "seg.dcm", empty, SEGMENTS, headers)


def test_label_map_must_match_source(tmp_path: Path) -> None:
    headers = _pet_series(tmp_path / "PET")
    with pytest.raises(WorkbenchError, match="does not match the 6 source slices"):
        write_seg(tmp_path / "seg.dcm", _labels()[:3], SEGMENTS, headers)


def test_sr_groups_reference_the_source_slices_of_their_segment(written: Written) -> None:
    _, sr_path, headers = written
    report = hd.sr.MeasurementReport.from_sequence([hd.sr.srread(sr_path)])
    groups = report.get_volumetric_roi_measurement_groups()
    segment = groups[0].referenced_segment
    assert segment is not None
    uids = {item.referenced_sop_instance_uid for item in segment.source_images_for_segmentation}
    # Lesion 1 is drawn on slices 1 and 2 of the label map (_labels), nowhere else.
    assert uids == {str(headers[1].SOPInstanceUID), str(headers[2].SOPInstanceUID)}


def test_one_segment_and_missing_type2_attributes(tmp_path: Path) -> None:
    # Some exports (the IBSI SUV DROs) leave out Type 2 study attributes; with a single segment
    # highdicom moves the segment identification into the shared functional groups.
    headers = _pet_series(tmp_path / "PET")
    for ds in headers:
        del ds.AccessionNumber
        del ds.ReferringPhysicianName
    labels = (_labels() == 1).astype(np.uint8)
    info = write_seg(tmp_path / "seg.dcm", labels, SEGMENTS[:1], headers)
    assert "AccessionNumber" not in headers[0]  # the inputs are not modified
    group = SrMeasurementGroup(
        segment_number=1,
        tracking_id="Lesion 1",
        tracking_uid=info.tracking_uids[1],
        kind=SegmentKind.LESION,
        suvmax=2.5,
        krenning=1,
    )
    write_sr(tmp_path / "sr.dcm", [group], seg_path=tmp_path / "seg.dcm", source_images=headers)
    back = read_sr(tmp_path / "sr.dcm")
    assert (back[0].suvmax, back[0].krenning) == (2.5, 1)
    for name in ("seg.dcm", "sr.dcm"):
        assert not _errors(_dciodvfy(tmp_path / name)), name
    assert pydicom.dcmread(tmp_path / "seg.dcm").AccessionNumber == ""


def _without_uids_and_times(dataset: pydicom.Dataset) -> list[str]:
    lines: list[str] = []
    for element in dataset.iterall():
        if element.VR == "SQ":  # its items follow (iterall)
            lines.append(f"{element.tag} SQ {len(element.value)}")
        elif element.VR in ("UI", "DA", "TM", "DT"):
            lines.append(f"{element.tag} {element.VR}")
        else:
            lines.append(f"{element.tag} {element.VR} {element.value!r}")
    return lines


def test_sr_from_the_segs_cleaned_sources_equals_sr_from_the_headers(tmp_path: Path) -> None:
    """``write_sr(source_images=info.sources)`` skips the second cleaning, not a single item."""
    headers = _pet_series(tmp_path / "PET")
    info = write_seg(tmp_path / "seg.dcm", _labels(), SEGMENTS, headers)
    assert info.sources is not None
    assert len(info.sources.datasets) == len(headers)
    group = SrMeasurementGroup(
        segment_number=1,
        tracking_id="Lesion 1",
        tracking_uid=info.tracking_uids[1],
        kind=SegmentKind.LESION,
        suvmax=12.5,
        volume_ml=2.048,
    )
    paths = (tmp_path / "from_headers.dcm", tmp_path / "from_sources.dcm")
    for path, sources in zip(paths, (headers, info.sources), strict=True):
        write_sr(path, [group], seg_path=tmp_path / "seg.dcm", source_images=sources)
    from_headers, from_sources = (pydicom.dcmread(p) for p in paths)
    assert _without_uids_and_times(from_headers) == _without_uids_and_times(from_sources)
    assert read_sr(paths[0]) == read_sr(paths[1])
    assert not _errors(_dciodvfy(paths[1]))


def test_writers_pause_the_collector_and_restore_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SEG and SR are built without cycle collections (issue 10 item 6), and a writer
    leaves the collector as it found it, also when it refuses its input."""
    headers = _pet_series(tmp_path / "PET")
    seen: list[bool] = []
    segmentation = hd.seg.Segmentation

    def spy(*args: object, **kwargs: object) -> hd.seg.Segmentation:
        seen.append(gc.isenabled())
        return segmentation(*args, **kwargs)

    monkeypatch.setattr(hd.seg, "Segmentation", spy)
    assert gc.isenabled()
    info = write_seg(tmp_path / "seg.dcm", _labels(), SEGMENTS, headers)
    assert seen == [False]
    assert gc.isenabled()
    with pytest.raises(WorkbenchError, match="segmentation is empty"):
        write_seg(tmp_path / "seg2.dcm", np.zeros_like(_labels()), SEGMENTS, headers)
    assert gc.isenabled()
    gc.disable()
    try:
        write_sr(
            tmp_path / "sr.dcm",
            [
                SrMeasurementGroup(
                    segment_number=1,
                    tracking_id="Lesion 1",
                    tracking_uid=info.tracking_uids[1],
                    kind=SegmentKind.LESION,
                    suvmax=1.0,
                )
            ],
            seg_path=tmp_path / "seg.dcm",
            source_images=headers,
        )
        assert not gc.isenabled()  # a caller's paused collector stays paused
    finally:
        gc.enable()
