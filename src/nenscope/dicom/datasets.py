"""Studies given as a list of files or as in-memory datasets (e.g. retrieved from a PACS).

:func:`scan_sources` groups files and/or :class:`pydicom.Dataset` objects by series exactly as
:func:`~nenscope.dicom.discovery.scan_folder` groups the files of a folder, and
:func:`read_dataset_series` stacks the datasets of one series into a
:class:`~nenscope.dicom.series.DicomSeries` without touching the disk. A dataset is never
modified: the series keeps copies of the headers without their pixel data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy.typing as npt
from pydicom import Dataset

from nenscope.core.errors import DicomImportError
from nenscope.core.geometry import ImageVolume
from nenscope.dicom._io import decode_frames, get_str, read_header
from nenscope.dicom._sorting import StackSettings, stack_slices
from nenscope.dicom.discovery import Discovery, Header, SeriesRef, SkippedFile, _order, _series_ref
from nenscope.dicom.series import (
    DicomSeries,
    _check_consistent,
    _is_multiframe,
    split_frames,
    unit_for,
)

__all__ = ["MEMORY_ROOT", "Dataset", "is_in_memory", "read_dataset_series", "scan_sources"]

MEMORY_ROOT = Path("<memory>")
"""Pseudo-folder of in-memory datasets in :attr:`SeriesRef.files` (no such folder exists)."""


def is_in_memory(ref: SeriesRef) -> bool:
    """Whether the series came from in-memory datasets (its ``files`` are pseudo-paths)."""
    return bool(ref.files) and ref.files[0].parent == MEMORY_ROOT


def scan_sources(items: Sequence[Path | str | Dataset]) -> Discovery:
    """Group files and in-memory datasets by series (the list counterpart of ``scan_folder``).

    Parameters
    ----------
    items
        DICOM files and/or datasets, in any order. Files that cannot be read as DICOM and
        datasets without SeriesInstanceUID (0020,000E) are recorded as skipped.

    Returns
    -------
    Discovery
        The series, with their headers kept (``SeriesRef.headers``); in-memory datasets get
        the pseudo-paths ``<memory>/NNNNNN`` in ``SeriesRef.files``.
    """
    groups: dict[str, list[tuple[Path, Dataset]]] = defaultdict(list)
    kept: dict[Path, Header] = {}
    skipped: list[SkippedFile] = []
    for n, item in enumerate(items):
        if isinstance(item, Dataset):
            path = MEMORY_ROOT / f"{n:06d}"
            header: Header = (item, (), None)
        else:
            path = Path(item)
            try:
                header = read_header(path)
            except DicomImportError as err:
                skipped.append(SkippedFile(path=path, reason=str(err)))
                continue
        ds = header[0]
        uid = get_str(ds, "SeriesInstanceUID")
        if not uid:
            skipped.append(
                SkippedFile(path=path, reason="no SeriesInstanceUID (0020,000E); not an image")
            )
            continue
        kept[path] = header
        groups[uid].append((path, ds))
    series = sorted(
        (_series_ref(uid, members, kept) for uid, members in groups.items()), key=_order
    )
    return Discovery(root=MEMORY_ROOT, series=tuple(series), skipped=tuple(skipped))


def _without_pixels(ds: Dataset) -> Dataset:
    out = Dataset()
    for element in ds:
        if element.keyword != "PixelData":
            out.add(element)
    if hasattr(ds, "file_meta"):
        out.file_meta = ds.file_meta
    return out


def read_dataset_series(
    datasets: Sequence[Dataset], *, settings: StackSettings | None = None
) -> DicomSeries:
    """Stack the in-memory datasets of one image series into a volume.

    Parameters
    ----------
    datasets
        The instances of one series, each with its pixel data.
    settings
        What to do with irregular slice spacing or gantry tilt; default: refuse both.

    Returns
    -------
    DicomSeries
        As :func:`~nenscope.dicom.series.read_series` returns it; ``files`` are pseudo-paths.

    Raises
    ------
    DicomImportError
        No dataset, several series, missing pixel data or geometry.
    """
    if not datasets:
        raise DicomImportError("No dataset given; pass the instances of one image series.")
    uids = {get_str(ds, "SeriesInstanceUID") for ds in datasets}
    if len(uids) > 1:
        raise DicomImportError(
            f"The datasets mix {len(uids)} series ({sorted(uids)}); pass one series."
        )
    headers: list[Dataset] = []
    frames: list[npt.NDArray[Any]] = []
    names: list[str] = []
    for n, ds in enumerate(datasets):
        name = f"dataset {n + 1} (SOPInstanceUID {get_str(ds, 'SOPInstanceUID') or '?'})"
        if "PixelData" not in ds:
            raise DicomImportError(f"{name} has no PixelData (7FE0,0010); it is not an image.")
        if _is_multiframe(ds, Path(name)):
            frame_headers, frame_pixels = split_frames(ds, path=name)
            headers.extend(_without_pixels(h) for h in frame_headers)
            frames.extend(frame_pixels)
            names.extend(f"{name} frame {i + 1}" for i in range(len(frame_headers)))
        else:
            headers.append(_without_pixels(ds))
            frames.append(decode_frames(ds, path=name)[0])
            names.append(name)
    _check_consistent(headers, names)
    stacked = stack_slices(headers, names=names, frames=frames, settings=settings)
    unit, notes = unit_for(headers[0], path=names[0])
    first = headers[0]
    volume = ImageVolume(
        array=stacked.array,
        affine=stacked.affine,
        unit=unit,
        frame_of_reference_uid=get_str(first, "FrameOfReferenceUID") or None,
    )
    return DicomSeries(
        volume=volume,
        headers=tuple(headers[i] for i in stacked.order),
        files=tuple(MEMORY_ROOT / f"{n:06d}" for n in range(len(datasets))),
        series_instance_uid=uids.pop(),
        modality=get_str(first, "Modality"),
        provenance=(*stacked.provenance, *notes),
    )
