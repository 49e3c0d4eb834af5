"""Radiomics over many image/mask pairs (``radiomics`` and ``radiomics-batch`` commands).

Reading an image for radiomics settings (a PET converted to SUVbw when the settings want SUV),
the batch table (CSV), the resumable journal (one JSON line per finished row) and the Parquet
table with the settings in its metadata. The extraction itself is
:func:`nenscope.radiomics.batch.run_batch`; numba loads only when a batch runs.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from nenscope import __version__
from nenscope.core.diagnostics import collect_warnings
from nenscope.core.errors import OptionError, WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.core.jsonable import to_jsonable
from nenscope.core.units import Unit
from nenscope.dicom.masks import read_mask
from nenscope.dicom.nifti import read_nifti
from nenscope.pipeline.staging import append_jsonl, atomic_file, read_jsonl, write_text_atomic
from nenscope.radiomics.settings import RadiomicsSettings

if TYPE_CHECKING:
    from nenscope.radiomics.batch import BatchCase, BatchRow
    from nenscope.radiomics.extract import FeatureResult

__all__ = [
    "CASE_COMPLETE",
    "BatchSummary",
    "RoiRadiomics",
    "export_record",
    "journal_path",
    "load_case",
    "pick_mask",
    "prepare_journal",
    "radiomics_batch",
    "read_image",
    "read_image_for",
    "read_journal",
    "read_table",
    "roi_radiomics",
    "run_radiomics_batch",
    "write_parquet",
]

_CONVERTIBLE_TO_SUV = (Unit.BQ_PER_ML, Unit.COUNTS)


def read_image(path: Path) -> ImageVolume:
    """Read a NIfTI file, or a DICOM series (folder or file) via ``nenscope.dicom``."""
    return read_image_for(path, None)[0]


def read_image_for(
    path: Path, settings: RadiomicsSettings | None
) -> tuple[ImageVolume, list[str]]:
    """Read an image for ``settings``; a PET series is converted to SUVbw if they want SUV.

    Returns the volume and notes on what was done (e.g. the SUV conversion and its warnings).
    """
    path = Path(path)
    if path.name.endswith((".nii", ".nii.gz")):
        return read_nifti(path), []
    if not path.exists():
        raise OptionError(f"Image {path} does not exist.")
    # pydicom loads only for a DICOM image (a NIfTI call stays without it: issue 9, item 6).
    from nenscope.dicom.pet import compute_suv, suv_volume
    from nenscope.dicom.series import read_series

    series = read_series(path)
    volume = series.volume
    if (
        settings is None
        or settings.unit is not Unit.SUV_BW
        or volume.unit not in _CONVERTIBLE_TO_SUV
    ):
        return volume, []
    with collect_warnings():
        # The SUV warnings are kept in result.warnings and reported in the notes.
        result = compute_suv(series)
    notes = [
        f"{path}: converted from {volume.unit} to SUVbw (g/mL) for settings '{settings.name}' "
        f"(suv_bw_factor {result.suv_bw_factor} g/Bq)",
        *result.warnings,
    ]
    return suv_volume(series, result, normalisation="bw"), notes


def pick_mask(
    masks: dict[str, npt.NDArray[np.bool_]], label: str | None, path: Path
) -> tuple[str, npt.NDArray[np.bool_]]:
    """Choose the ROI named ``label``, or the only ROI of the mask file."""
    if label:
        if label not in masks:
            raise OptionError(
                f"{path} has no mask named '{label}'. Found: {', '.join(sorted(masks))}."
            )
        return label, masks[label]
    if len(masks) != 1:
        raise OptionError(
            f"{path} holds {len(masks)} masks ({', '.join(sorted(masks))}); choose one with "
            "--label, or use radiomics-batch for one row per lesion."
        )
    name = next(iter(masks))
    return name, masks[name]


def read_table(path: Path) -> list[BatchCase]:
    """Read the batch CSV: columns ``image``, ``mask`` and optional ``id``, ``label``.

    Relative paths are resolved against the CSV's folder.
    """
    from nenscope.radiomics.batch import BatchCase

    if not path.is_file():
        raise OptionError(f"Batch table {path} does not exist.")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        missing = [c for c in ("image", "mask") if c not in columns]
        if missing:
            raise OptionError(
                f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(columns)}. "
                "Expected: image, mask and optionally id, label."
            )
        cases = []
        for i, row in enumerate(reader, start=1):
            cases.append(
                BatchCase(
                    case_id=(row.get("id") or "").strip() or f"row{i}",
                    image=str(_resolve(path.parent, row["image"])),
                    mask=str(_resolve(path.parent, row["mask"])),
                    label=(row.get("label") or "").strip(),
                )
            )
    ids = [c.case_id for c in cases]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise OptionError(f"{path}: duplicate id(s) {', '.join(dup)}; ids must be unique.")
    return cases


def _resolve(base: Path, value: str) -> Path:
    p = Path(value.strip())
    return p if p.is_absolute() else base / p


def load_case(
    case: BatchCase, settings: RadiomicsSettings | None = None
) -> tuple[ImageVolume, dict[str, npt.NDArray[np.bool_]]]:
    """Read one batch case through ``nenscope.dicom`` (PET to SUVbw if the settings want SUV)."""
    volume, _ = read_image_for(Path(case.image), settings)
    return volume, read_mask(Path(case.mask), volume)


def journal_path(out: Path) -> Path:
    """Return the journal path beside the Parquet output: ``OUT.journal.jsonl``."""
    return out.with_name(out.name + ".journal.jsonl")


CASE_COMPLETE = "case_complete"
"""Key of the journal record written after the last row of a case (then it counts as done)."""


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Rows of the journal's completed cases (empty when there is no journal).

    A torn last line (a kill during the write) is dropped; so are the rows of a case without
    its completion record (a case killed after its first ROI runs again in full, issue 14).
    """
    records = read_jsonl(path)
    complete = {r["case_id"] for r in records if r.get(CASE_COMPLETE)}
    return [r for r in records if not r.get(CASE_COMPLETE) and r.get("case_id") in complete]


def write_parquet(out: Path, records: list[dict[str, Any]], settings: RadiomicsSettings) -> None:
    """Write the rows as Parquet (settings and version in its metadata) + a settings sidecar."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nenscope.radiomics.batch import rows_to_columns

    columns = rows_to_columns(records)
    arrays = {}
    for key, values in columns.items():
        if key in ("case_id", "lesion", "status", "error", "note"):
            arrays[key] = pa.array([v if v is not None else "" for v in values], pa.string())
        elif key == "n_voxels":
            arrays[key] = pa.array([int(v or 0) for v in values], pa.int64())
        else:
            arrays[key] = pa.array(values, pa.float64())
    meta = {
        "nenscope_version": __version__,
        "radiomics_settings": json.dumps(to_jsonable(settings.to_mapping())),
    }
    table = pa.table(arrays).replace_schema_metadata(meta)
    with atomic_file(out) as temp:  # a kill never leaves a truncated Parquet file
        pq.write_table(table, temp)
    sidecar = out.with_name(out.name + ".settings.json")
    write_text_atomic(
        sidecar,
        json.dumps(
            {"settings": to_jsonable(settings.to_mapping()), "version": __version__}, indent=2
        )
        + "\n",
    )


def prepare_journal(journal: Path, *, restart: bool) -> set[str]:
    """Keep the journal's finished cases (dropping failed ones, retried); return their ids."""
    if restart and journal.exists():
        journal.unlink()
    previous = read_journal(journal)  # rows of completed cases only
    ok = {r["case_id"] for r in previous if r.get("status") == "ok"}
    # A case is done when all its rows were journaled and none failed (a failed one is retried).
    failed = {r["case_id"] for r in previous if r.get("status") != "ok"}
    finished = ok - failed
    kept = [r for r in previous if r["case_id"] in finished]
    markers = [{"case_id": case_id, CASE_COMPLETE: True} for case_id in sorted(finished)]
    journal.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(journal, "".join(json.dumps(r) + "\n" for r in [*kept, *markers]))
    return finished


def export_record(row: BatchRow) -> dict[str, Any]:
    """Return the row as the journal and the Parquet keep it: no file path (research export).

    Paths often hold patient names or IDs; the case is identified by its ``id`` only (which
    the table must give as a pseudonym). A path quoted in an error becomes ``<image>`` or
    ``<mask>``.
    """
    record = row.to_record()
    del record["image"], record["mask"]
    for key in ("error", "note"):
        text = str(record.get(key) or "")
        for role, path in (("image", row.image), ("mask", row.mask)):
            if path:
                text = text.replace(path, f"<{role}>")
        record[key] = text
    return record


def run_radiomics_batch(
    cases: list[BatchCase],
    settings: RadiomicsSettings,
    *,
    journal: Path,
    finished: set[str],
    split: bool,
    on_case: Callable[[BatchCase], None] | None = None,
) -> int:
    """Run the batch, appending each row to the journal; returns the number of new rows."""
    from nenscope.radiomics.batch import run_batch

    new_rows = 0
    with journal.open("a", encoding="utf-8") as fh:

        def on_row(row: BatchRow) -> None:
            nonlocal new_rows
            append_jsonl(fh, to_jsonable(export_record(row)), sync=False)
            new_rows += 1

        def case_done(case: BatchCase) -> None:
            if case.case_id not in finished:
                # Written (and flushed to disk) after the case's last row: a case killed after
                # its first ROI has no marker and runs again in full on resume.
                append_jsonl(fh, {"case_id": case.case_id, CASE_COMPLETE: True}, sync=True)
            if on_case is not None:
                on_case(case)

        run_batch(
            cases,
            load=lambda case: load_case(case, settings),
            settings=settings,
            done=frozenset(finished),
            on_row=on_row,
            on_case=case_done,
            split_components=split,
        )
    return new_rows


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RoiRadiomics:
    """The features of one ROI (``nenscope radiomics``) and how the image was read."""

    result: FeatureResult
    roi: str
    unit: Unit
    notes: tuple[str, ...]

    def to_contract(self) -> dict[str, Any]:
        """Return the JSON contract: ``features``, ``settings``, ``version``, ``roi``, ...."""
        payload = self.result.to_contract()
        payload["roi"] = self.roi
        payload["unit"] = str(self.unit)
        payload["notes"] = list(self.notes)
        return payload


def roi_radiomics(
    image: Path, mask: Path, settings: RadiomicsSettings, *, label: str | None = None
) -> RoiRadiomics:
    """Extract the IBSI features of one ROI of a mask file on an image (NIfTI or DICOM).

    Raises
    ------
    WorkbenchError
        An unreadable image or mask, an ROI name that is not in the mask, or features that
        cannot be extracted (the message names the image, the mask and the ROI).
    """
    from nenscope.radiomics.extract import extract_features

    volume, notes = read_image_for(Path(image), settings)
    name, roi = pick_mask(read_mask(Path(mask), volume), label, Path(mask))
    try:
        result = extract_features(volume, roi, settings)
    except WorkbenchError as err:
        raise type(err)(f"{image} with mask {mask} (ROI '{name}'): {err}") from err
    return RoiRadiomics(result=result, roi=name, unit=volume.unit, notes=tuple(notes))


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchSummary:
    """What a radiomics batch wrote (the Parquet table and its journal)."""

    out: Path
    records: tuple[Mapping[str, Any], ...]
    new_rows: int
    resumed_cases: int

    @property
    def failed(self) -> list[dict[str, Any]]:
        """``{"case_id", "lesion", "error"}`` of each row that failed."""
        return [
            {"case_id": r["case_id"], "lesion": r["lesion"], "error": r["error"]}
            for r in self.records
            if r.get("status") != "ok"
        ]


def radiomics_batch(
    table: Path,
    out: Path,
    settings: RadiomicsSettings,
    *,
    restart: bool = False,
    split_components: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_case: Callable[[BatchCase], None] | None = None,
) -> BatchSummary:
    """Extract features for every image/mask pair of a CSV table into a Parquet file.

    Resumable: finished cases are kept in ``OUT.journal.jsonl`` and skipped on the next run
    (failed ones are retried); ``restart`` starts again.

    Parameters
    ----------
    table
        CSV with columns ``image``, ``mask`` and optional ``id``, ``label``.
    out
        Parquet file, one row per lesion.
    settings
        Radiomics settings.
    restart, split_components
        Ignore an earlier journal; one row per 26-connected component of each mask.
    on_start, on_case
        Progress callbacks: the number of cases, then each case as it finishes.
    """
    cases = read_table(Path(table))
    if on_start is not None:
        on_start(len(cases))
    journal = journal_path(Path(out))
    finished = prepare_journal(journal, restart=restart)
    new_rows = run_radiomics_batch(
        cases,
        settings,
        journal=journal,
        finished=finished,
        split=split_components,
        on_case=on_case,
    )
    records = read_journal(journal)
    write_parquet(Path(out), records, settings)
    return BatchSummary(
        out=Path(out), records=tuple(records), new_rows=new_rows, resumed_cases=len(finished)
    )
