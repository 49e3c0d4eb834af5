"""Benchmark: read a whole-body PET series into SUV with nenscope vs SimpleITK's series reader.

Usage::

    python benchmarks/bench_read_pet.py [--slices 400] [--size 200] [--repeat 3] [DIR ...]

Without DIR a synthetic PET series (``--slices`` files of ``--size``² int16 pixels, a different
RescaleSlope per slice, file names shuffled against the slice order) is written with pydicom to
a temporary folder; each DIR given is benchmarked as well (e.g.
``../shared/data/dicom/tcia-sts-001-ge-petct/PT_raw_BQML``).

For each series both readers run in the same process, alternating, ``--repeat`` times; the best
wall time of each is reported with the ratio nenscope / SimpleITK (goal ≤ 1). nenscope is timed
twice: reading the volume (``read_series``) and the whole path to an SUVbw volume
(``read_series`` + ``compute_suv`` + ``suv_volume`` in float32, as SimpleITK's float32 output),
which is what the issue asks to compare;
SimpleITK only reads (it has no SUV). SimpleITK's time
includes GetGDCMSeriesFileNames (its geometric sort), as nenscope's includes its own sort. Peak
memory of ``read_series`` is measured with tracemalloc (numpy buffers and pydicom objects) and
reported as a multiple of the float32 volume (goal < 2.5). The voxel values of both readers are
compared (max relative difference).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import SimpleITK as _sitk  # noqa: N813  (typed as Any below; the library has no stubs)
from pydicom.dataset import FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    PositronEmissionTomographyImageStorage,
    generate_uid,
)

from nenscope.dicom import compute_suv, read_series, suv_volume

sitk: Any = _sitk


def write_synthetic_pet(folder: Path, *, slices: int, size: int, seed: int = 0) -> None:
    """Write a synthetic whole-body-like PET series, one file per slice, shuffled names."""
    rng = np.random.default_rng(seed)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    names = rng.permutation(slices)
    yy, xx = np.mgrid[0:size, 0:size]
    body = (
        (yy - size / 2) ** 2 / (0.35 * size) ** 2 + (xx - size / 2) ** 2 / (0.45 * size) ** 2
    ) < 1
    for k in range(slices):
        activity = body * (5000.0 + 2000.0 * np.sin(k / 20.0)) + rng.gamma(
            2.0, 300.0, (size, size)
        )
        activity[size // 2 - 3 : size // 2 + 3, size // 2 - 3 : size // 2 + 3] += 40000.0 * (
            k % 97 == 0
        )
        slope = float(activity.max()) / 32000.0
        stored = np.round(activity / slope).astype(np.int16)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = PositronEmissionTomographyImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = pydicom.Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = "PT"
        ds.PatientID, ds.PatientName = "BENCH", "Bench^PET"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.SeriesNumber, ds.InstanceNumber = 1, int(names[k]) + 1
        ds.Units, ds.DecayCorrection = "BQML", "START"
        ds.CorrectedImage = ["ATTN", "DECY"]
        ds.SeriesDate = ds.AcquisitionDate = ds.StudyDate = "20260115"
        ds.SeriesTime = "100000"
        # Ten beds of 40 slices, 3 min each, acquired one after the other (Siemens semantics).
        bed = k // 40
        ds.AcquisitionTime = f"{10 + (bed * 3) // 60:02d}{(bed * 3) % 60:02d}00"
        ds.FrameReferenceTime = 0.0
        ds.ActualFrameDuration = 180000
        ds.PatientWeight, ds.PatientSize, ds.PatientSex = 75.0, 1.75, "M"
        drug = pydicom.Dataset()
        drug.RadionuclideTotalDose = 370e6
        drug.RadionuclideHalfLife = 6586.2
        drug.RadiopharmaceuticalStartDateTime = "20260115090000"
        drug.RadiopharmaceuticalStartTime = "090000"
        ds.RadiopharmaceuticalInformationSequence = [drug]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-size * 2.0, -size * 2.0, -1200.0 + 3.0 * k]
        ds.PixelSpacing, ds.SliceThickness = [4.0, 4.0], 3.0
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit, ds.PixelRepresentation = 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = f"{slope:.6g}", 0
        ds.PixelData = stored.tobytes()
        ds.save_as(folder / f"{int(names[k]):05d}.dcm", enforce_file_format=True)


def read_with_simpleitk(folder: Path) -> np.ndarray:
    reader = sitk.ImageSeriesReader()
    files = reader.GetGDCMSeriesFileNames(str(folder))
    reader.SetFileNames(files)
    reader.SetOutputPixelType(sitk.sitkFloat32)
    reader.SetGlobalWarningDisplay(False)  # ITK's "non uniform sampling" note on real PET
    return np.asarray(sitk.GetArrayFromImage(reader.Execute()))


def read_suv(folder: Path) -> np.ndarray:
    """nenscope's whole path: read, SUV factors with provenance, SUVbw volume."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deviations are recorded in the result, not needed here
        series = read_series(folder)
        return suv_volume(series, compute_suv(series), dtype=np.float32).array


def benchmark(folder: Path, *, repeat: int) -> None:
    best_ns, best_sitk, best_suv = float("inf"), float("inf"), float("inf")
    cpu_ns, cpu_sitk = float("inf"), float("inf")
    ours = theirs = None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        ours = read_series(folder).volume.array
        best_ns = min(best_ns, time.perf_counter() - start)
        cpu_ns = min(cpu_ns, time.process_time() - cpu)
        start = time.perf_counter()
        read_suv(folder)
        best_suv = min(best_suv, time.perf_counter() - start)
        start, cpu = time.perf_counter(), time.process_time()
        theirs = read_with_simpleitk(folder)
        best_sitk = min(best_sitk, time.perf_counter() - start)
        cpu_sitk = min(cpu_sitk, time.process_time() - cpu)
    if ours is None or theirs is None:
        raise SystemExit("--repeat must be at least 1")
    tracemalloc.start()
    volume = read_series(folder).volume.array
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del volume
    tracemalloc.start()
    volume = read_suv(folder)
    _, peak_suv = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    float32_bytes = volume.size * 4
    scale = np.max(np.abs(theirs)) or 1.0
    diff = (
        float(np.max(np.abs(ours.astype(np.float64) - theirs)) / scale)
        if (ours.shape == theirs.shape)
        else float("nan")
    )
    print(f"series: {folder} ({volume.shape[0]} slices, {volume.shape[1]}×{volume.shape[2]})")
    print(f"  nenscope read_series : {best_ns:7.3f} s (best of {repeat})")
    print(f"  SimpleITK reader     : {best_sitk:7.3f} s (best of {repeat})")
    print(f"  time ratio nenscope/SimpleITK = {best_ns / best_sitk:.2f} (goal <= 1)")
    print(f"  nenscope to SUVbw    : {best_suv:7.3f} s (read + compute_suv + suv_volume)")
    print(
        f"  time ratio nenscope SUV path/SimpleITK read = {best_suv / best_sitk:.2f} (goal <= 1)"
    )
    # CPU time is less disturbed by other jobs on a shared machine (all threads counted).
    print(
        f"  CPU time: nenscope {cpu_ns:.3f} s, SimpleITK {cpu_sitk:.3f} s, "
        f"ratio {cpu_ns / cpu_sitk:.2f}"
    )
    print(
        f"  peak memory (tracemalloc) {peak / 2**20:.1f} MiB = {peak / float32_bytes:.2f} × the "
        f"float32 volume ({float32_bytes / 2**20:.1f} MiB) (goal < 2.5)"
    )
    print(
        f"  peak memory to SUVbw {peak_suv / 2**20:.1f} MiB = {peak_suv / float32_bytes:.2f} × "
        "the float32 volume (goal < 2.5)"
    )
    print(f"  max |nenscope − SimpleITK| / max|value| = {diff:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--slices", type=int, default=400)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        write_synthetic_pet(folder, slices=args.slices, size=args.size)
        print(f"wrote {args.slices} synthetic PET slices in {time.perf_counter() - start:.1f} s")
        benchmark(folder, repeat=args.repeat)
    for extra in args.folders:
        benchmark(extra, repeat=args.repeat)


if __name__ == "__main__":
    main()
