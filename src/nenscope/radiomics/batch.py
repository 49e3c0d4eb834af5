"""Batch extraction over many image/mask pairs, one row per lesion (I/O injected, pure).

The engine never opens a file: the caller passes a ``load`` function that turns a
:class:`BatchCase` into an image and its named masks (the CLI uses ``nenscope.dicom``), and a
``on_row`` callback that stores each finished row (the CLI appends it to a journal so that an
interrupted batch resumes where it stopped). An error in one case becomes an error row and
the batch goes on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.ndimage as ndi

from nenscope.core.errors import WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.radiomics.settings import RadiomicsSettings

if TYPE_CHECKING:
    from nenscope.radiomics.registry import Family

__all__ = [
    "BatchCase",
    "BatchRow",
    "LoadFunction",
    "rows_to_columns",
    "run_batch",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchCase:
    """One line of the batch table.

    Parameters
    ----------
    case_id
        Identifier of the case (unique in the table).
    image, mask
        Paths (as given) of the image and of the mask / label map.
    label
        Restrict the case to one named mask (``"mask"``, ``"label_3"``, a SEG segment label
        or an RTSTRUCT ROI name); empty = every mask in the file, one row each.
    """

    case_id: str
    image: str
    mask: str
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchRow:
    """One output row: a lesion's features, or the error that stopped its case.

    ``note`` lists the families that could not be computed on the lesion, with the reason
    (e.g. texture matrices of a one-voxel lesion); their columns are empty.
    """

    case_id: str
    image: str
    mask: str
    lesion: str
    status: str
    error: str = ""
    n_voxels: int = 0
    features: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def to_record(self) -> dict[str, Any]:
        """Return the row as a flat JSON-able mapping (NaN features become ``None``)."""
        record: dict[str, Any] = {
            "case_id": self.case_id,
            "image": self.image,
            "mask": self.mask,
            "lesion": self.lesion,
            "status": self.status,
            "error": self.error,
            "n_voxels": self.n_voxels,
            "note": self.note,
        }
        for key, value in self.features.items():
            record[key] = value if math.isfinite(value) else None
        return record


LoadFunction = Callable[[BatchCase], tuple[ImageVolume, Mapping[str, npt.NDArray[np.bool_]]]]
"""Reads a case: image and ``{lesion name: bool mask}`` on the image grid."""


def split_connected(
    masks: Mapping[str, npt.NDArray[np.bool_]],
) -> dict[str, npt.NDArray[np.bool_]]:
    """Split every mask into its 26-connected components, named ``<name>#<k>``.

    Components are numbered from 1 in scan order (z, then y, then x of their first voxel);
    a mask with one component keeps its name.

    Examples
    --------
    >>> m = np.zeros((1, 1, 5), dtype=bool); m[0, 0, [0, 1, 4]] = True
    >>> {k: int(v.sum()) for k, v in split_connected({"mask": m}).items()}
    {'mask#1': 2, 'mask#2': 1}
    """
    out: dict[str, npt.NDArray[np.bool_]] = {}
    structure = np.ones((3, 3, 3), dtype=bool)
    for name, mask in masks.items():
        labels, n = ndi.label(mask, structure=structure)
        if n <= 1:
            out[name] = mask
            continue
        for k in range(1, n + 1):
            out[f"{name}#{k}"] = labels == k
    return out


def _case_rows(
    case: BatchCase,
    load: LoadFunction,
    settings: RadiomicsSettings,
    families: Sequence[Family] | None,
    *,
    split: bool,
) -> list[BatchRow]:
    # Imported here so that the batch table types stay cheap to import (the CLI registers its
    # commands at every start); extract pulls in the numba texture kernels.
    from nenscope.radiomics.extract import extract_features

    try:
        image, masks = load(case)
    except (WorkbenchError, OSError) as err:
        return [_error_row(case, case.label, _one_line(err))]
    if split:
        masks = split_connected(masks)
    names = [case.label] if case.label else sorted(masks)
    rows: list[BatchRow] = []
    for name in names:
        if name not in masks:
            found = ", ".join(sorted(masks))
            rows.append(_error_row(case, name, f"no mask named '{name}'; found: {found}"))
            continue
        try:
            result = extract_features(image, masks[name], settings, families=families)
        except (WorkbenchError, ValueError) as err:
            rows.append(_error_row(case, name, _one_line(err)))
            continue
        rows.append(
            BatchRow(
                case_id=case.case_id,
                image=case.image,
                mask=case.mask,
                lesion=name,
                status="ok",
                n_voxels=result.n_voxels,
                features=result.features,
                note="; ".join(f"{k}: {v}" for k, v in result.not_computable.items()),
            )
        )
    return rows


def _error_row(case: BatchCase, lesion: str, error: str) -> BatchRow:
    return BatchRow(
        case_id=case.case_id,
        image=case.image,
        mask=case.mask,
        lesion=lesion,
        status="error",
        error=error,
    )


def _one_line(err: BaseException) -> str:
    return f"{type(err).__name__}: {' '.join(str(err).split())}"


def run_batch(
    cases: Iterable[BatchCase],
    *,
    load: LoadFunction,
    settings: RadiomicsSettings,
    done: frozenset[str] = frozenset(),
    on_row: Callable[[BatchRow], None] | None = None,
    on_case: Callable[[BatchCase], None] | None = None,
    families: Sequence[Family] | None = None,
    split_components: bool = False,
) -> list[BatchRow]:
    """Extract features for every case not yet done; errors become rows, never exceptions.

    Parameters
    ----------
    cases
        The cases, in table order.
    load
        Reads one case (image and named masks).
    settings
        Radiomics settings for every case.
    done
        ``case_id`` values already finished (skipped: the batch resumes).
    on_row
        Called with each new row as soon as it exists (e.g. to append it to a journal).
    on_case
        Called after each case (e.g. to advance a progress bar), skipped cases included.
    families
        Feature families; default all.
    split_components
        Split each mask into its 26-connected lesions (:func:`split_connected`), for binary
        masks that hold several lesions; a case's ``label`` then names a component
        (``mask#2``).

    Returns
    -------
    list of BatchRow
        The new rows, in order.
    """
    out: list[BatchRow] = []
    for case in cases:
        if case.case_id not in done:
            for row in _case_rows(case, load, settings, families, split=split_components):
                out.append(row)
                if on_row is not None:
                    on_row(row)
        if on_case is not None:
            on_case(case)
    return out


def rows_to_columns(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Column-oriented table of row records; feature columns are the union, sorted.

    Examples
    --------
    >>> cols = rows_to_columns([{"case_id": "a", "RNU0": 1.0}, {"case_id": "b", "Q4LE": 2.0}])
    >>> cols["RNU0"], cols["Q4LE"]
    ([1.0, None], [None, 2.0])
    """
    fixed = ["case_id", "image", "mask", "lesion", "status", "error", "note", "n_voxels"]
    extra = sorted({k for r in records for k in r} - set(fixed))
    columns = [k for k in fixed if any(k in r for r in records)] + extra
    return {k: [r.get(k) for r in records] for k in columns}
