"""Mutation fuzz of the SUV path: corrupted PET headers give a correct SUV, a warning or a refusal.

Each case takes a real series from ``shared/data`` (IBSI SUV DROs, the GE Discovery ST series
of TCIA STS-001, raw Bq/mL and SUV-stored), applies one or two corruptions drawn with a fixed
seed (an attribute deleted, emptied, garbled, zeroed, negated, scaled by 10^±3 or 10^±6, set to
1e17, stored with a wrong VR; a sequence replaced by text; PixelData truncated or lengthened;
Units swapped) on every slice or on one slice, writes the files and runs what ``nenscope suv``
runs: :func:`~nenscope.dicom.series.read_series`, :func:`~nenscope.dicom.pet.compute_suv`.

Outcomes:

* ``traceback`` -- an exception that is not a :class:`~nenscope.core.errors.WorkbenchError`
  (a defect: the user sees a stack trace instead of a one-line reason);
* ``refused`` -- a ``WorkbenchError``;
* ``same`` -- a result whose SUVmax is within 1 % of the unmutated series' and whose volume has
  the same shape;
* ``warned`` -- a different result, with a warning that names a mutated attribute;
* ``silent`` -- a different result (SUVmax off by more than 1 % or another volume shape) and no
  warning naming a mutated attribute: a silent wrong SUV.

Only corruptions are drawn, never plausible alternative values (a weight of 80 instead of 70 kg
gives another SUV that nothing can tell from the truth). Run ``python tests/dicom/suv_fuzz.py
--cases 3000`` for the full measurement; the test module runs a fixed-seed sample.
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from nenscope.core.errors import WorkbenchError
from nenscope.dicom.pet import compute_suv
from nenscope.dicom.series import read_series

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "dicom"

RTOL = 0.01
"""A result differing from the reference by more than 1 % counts as different."""

BASES: dict[str, tuple[str, slice]] = {
    "dro-0-0": ("ibsi-suv-dro/DRO_0_0/PT", slice(None)),
    "dro-3-2": ("ibsi-suv-dro/DRO_3_2/PT", slice(None)),
    "dro-2-4": ("ibsi-suv-dro/DRO_2_4/PT", slice(None)),
    # 16 contiguous slices of one bed: per-slice RescaleSlope, real GE private attributes.
    "ge-bqml": ("tcia-sts-001-ge-petct/PT_raw_BQML", slice(100, 116)),
    "ge-gml": ("tcia-sts-001-ge-petct/PT_cropped_GML", slice(20, 36)),
}
"""Series the cases start from: folder under shared/data/dicom and the files taken."""

RADIO = frozenset(
    {
        "RadionuclideTotalDose",
        "RadionuclideHalfLife",
        "RadiopharmaceuticalStartTime",
        "RadiopharmaceuticalStartDateTime",
    }
)
"""Attributes that live in RadiopharmaceuticalInformationSequence (0054,0016)."""

NUMERIC = (
    "RescaleSlope",
    "RescaleIntercept",
    "PatientWeight",
    "PatientSize",
    "RadionuclideTotalDose",
    "RadionuclideHalfLife",
    "FrameReferenceTime",
    "ActualFrameDuration",
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
)
TIMES = (
    "SeriesTime",
    "AcquisitionTime",
    "RadiopharmaceuticalStartTime",
    "SeriesDate",
    "AcquisitionDate",
    "RadiopharmaceuticalStartDateTime",
)
CODES = ("Units", "DecayCorrection", "CorrectedImage", "SUVType", "Modality", "PatientSex")
GEOMETRY = ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing")
GARBAGE = (b"b79", b"abc", b"1e400", b"NaN", b"-", b"12:3x", b"\xff\xfe", b"  ", b"0x10")

Mutation = Callable[[Dataset, random.Random], None]


@dataclass(frozen=True, slots=True)
class Case:
    """One drawn case: the base series, the mutations (attribute, operation, scope)."""

    base: str
    mutations: tuple[tuple[str, str, str], ...]
    seed: int

    @property
    def names(self) -> frozenset[str]:
        """Attribute keywords a warning may name to make a different result a warned one."""
        out: set[str] = set()
        for keyword, _, _ in self.mutations:
            out.add(keyword)
            if keyword == "RadiopharmaceuticalInformationSequence":
                out |= RADIO
            if keyword == "PixelData":
                out |= {"Rows", "Columns"}
        return frozenset(out)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one case gave."""

    case: Case
    kind: str
    detail: str


def _target(ds: Dataset, keyword: str) -> Dataset | None:
    if keyword in RADIO:
        seq = ds.get("RadiopharmaceuticalInformationSequence")
        if not seq or not isinstance(seq[0], Dataset):
            return None
        item: Dataset = seq[0]
        return item
    return ds


def _raw(ds: Dataset, keyword: str, data: bytes, vr: str | None = None) -> None:
    tag = Tag(keyword)
    if len(data) % 2:
        data += b" "
    ds[tag] = RawDataElement(tag, vr or dictionary_VR(tag), len(data), data, 0, True, True)


def _number(ds: Dataset, keyword: str) -> float | None:
    try:
        value = ds.get(keyword)
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def _set_number(ds: Dataset, keyword: str, value: float) -> None:
    vr = dictionary_VR(Tag(keyword))
    if vr in ("US", "SS", "UL", "SL"):
        ds[Tag(keyword)].value = int(value) if abs(value) < 2**31 else 0
        if vr.startswith("U") and value < 0:
            ds[Tag(keyword)].value = 0
        return
    text = f"{value:.10g}"[:16]
    _raw(ds, keyword, text.encode("ascii"))


def _apply(ds: Dataset, keyword: str, op: str, rng: random.Random) -> None:  # noqa: C901
    if keyword == "PixelData":
        if "PixelData" not in ds:
            return
        data = ds.PixelData
        if op == "truncate":
            ds.PixelData = data[: len(data) // 2]
        elif op == "extend":
            ds.PixelData = data + data[: len(data) // 4 or 2]
        elif op == "empty":
            ds.PixelData = b""
        return
    if keyword == "RadiopharmaceuticalInformationSequence":
        if op == "text":
            _raw(ds, keyword, b"F-18 FDG 370 MBq", "LO")
        elif op == "empty":
            ds.RadiopharmaceuticalInformationSequence = pydicom.Sequence([])
        else:
            ds.pop(keyword, None)
        return
    target = _target(ds, keyword)
    if target is None:
        return
    if op == "delete":
        target.pop(keyword, None)
    elif op == "empty":
        _raw(target, keyword, b"")
    elif op == "garbage":
        _raw(target, keyword, rng.choice(GARBAGE))
    elif op == "wrong-vr":
        _raw(target, keyword, np.float64(rng.choice((0.5, 2.0, 70.0))).tobytes(), "FD")
    elif op == "swap":
        choices = {
            "Units": ("GML", "BQML", "CNTS", "CM2ML", "PROPCNTS", "CPS"),
            "Modality": ("CT", "NM", "MR"),
            "PatientSex": ("X", "male", "M F"),
            "SUVType": ("LBM", "BSA", "XYZ"),
            "CorrectedImage": ("DECY", "NORM\\SCAT"),
            "DecayCorrection": ("start", "DECY", "NO"),
        }[keyword]
        target[Tag(keyword)] = pydicom.DataElement(
            Tag(keyword), dictionary_VR(Tag(keyword)), rng.choice(choices)
        )
    else:
        value = _number(target, keyword)
        if value is None:
            return
        new = {
            "zero": 0.0,
            "negative": -abs(value) if value else -1.0,
            "small": value * rng.choice((1e-3, 1e-6)),
            "large": value * rng.choice((1e3, 1e6)),
            "absurd": 1e17,
        }[op]
        _set_number(target, keyword, new)


def _ops(keyword: str) -> tuple[str, ...]:
    if keyword == "PixelData":
        return ("truncate", "extend", "empty")
    if keyword == "RadiopharmaceuticalInformationSequence":
        return ("text", "empty", "delete")
    if keyword in NUMERIC:
        return (
            "delete",
            "empty",
            "garbage",
            "zero",
            "negative",
            "small",
            "large",
            "absurd",
            "wrong-vr",
        )
    if keyword in CODES:
        return ("delete", "empty", "garbage", "swap", "wrong-vr")
    return ("delete", "empty", "garbage", "wrong-vr")


KEYWORDS = (
    *NUMERIC,
    *TIMES,
    *CODES,
    *GEOMETRY,
    "PixelData",
    "RadiopharmaceuticalInformationSequence",
    "SeriesInstanceUID",
)


def draw_cases(n: int, *, seed: int) -> list[Case]:
    """``n`` cases drawn with ``seed`` (the same list on every machine)."""
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        base = rng.choice(sorted(BASES))
        mutations = []
        for _ in range(1 if rng.random() < 0.75 else 2):
            keyword = rng.choice(KEYWORDS)
            mutations.append((keyword, rng.choice(_ops(keyword)), rng.choice(("all", "one"))))
        cases.append(Case(base=base, mutations=tuple(mutations), seed=seed * 100_003 + i))
    return cases


@cache
def _base_bytes(base: str) -> tuple[tuple[str, bytes], ...]:
    folder, taken = BASES[base]
    files = sorted((SHARED / folder).glob("*.dcm"))[taken]
    return tuple((p.name, p.read_bytes()) for p in files)


@dataclass(frozen=True, slots=True)
class Measured:
    """SUVmax and volume shape of one run, with its warnings."""

    suvmax: float | None
    shape: tuple[int, ...]
    warnings: tuple[str, ...]


def _measure(folder: Path) -> Measured:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        series = read_series(folder)
        result = compute_suv(series)
    messages = [str(w.message) for w in caught] + list(series.provenance) + list(result.warnings)
    return Measured(
        suvmax=result.suvmax_bw, shape=series.volume.array.shape, warnings=tuple(messages)
    )


@cache
def reference(base: str) -> Measured:
    """The unmutated series' SUVmax (must not warn about anything fuzzed)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, data in _base_bytes(base):
            (folder / name).write_bytes(data)
        return _measure(folder)


def _write_case(case: Case, folder: Path) -> None:
    rng = random.Random(case.seed)
    files = _base_bytes(case.base)
    one = {m: rng.randrange(len(files)) for m in case.mutations}
    for index, (name, data) in enumerate(files):
        path = folder / name
        path.write_bytes(data)
        todo = [m for m in case.mutations if m[2] == "all" or one[m] == index]
        if not todo:
            continue
        with warnings.catch_warnings():
            # pydicom warns about the invalid values written on purpose.
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
            for keyword, op, _ in todo:
                _apply(ds, keyword, op, rng)
            ds.save_as(path, enforce_file_format=False)


def run_case(case: Case, workdir: Path) -> Outcome:
    """Run one case in a fresh sub-folder of ``workdir`` and classify its outcome."""
    folder = workdir / f"case-{case.seed}"
    folder.mkdir()
    try:
        try:
            _write_case(case, folder)
        except Exception as err:
            return Outcome(case, "unwritable", f"{type(err).__name__}: {err}")
        ref = reference(case.base)
        try:
            got = _measure(folder)
        except WorkbenchError as err:
            return Outcome(case, "refused", str(err))
        except Exception as err:
            return Outcome(case, "traceback", f"{type(err).__name__}: {err}")
        return _classify(case, ref, got)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _classify(case: Case, ref: Measured, got: Measured) -> Outcome:
    same_shape = got.shape == ref.shape
    if ref.suvmax is None or got.suvmax is None:
        same_value = ref.suvmax == got.suvmax
    else:
        same_value = bool(np.isclose(got.suvmax, ref.suvmax, rtol=RTOL, atol=0.0))
    if same_shape and same_value:
        return Outcome(case, "same", "")
    detail = f"SUVmax {got.suvmax} (reference {ref.suvmax}), shape {got.shape} ({ref.shape})"
    named = [m for m in got.warnings if any(k in m for k in case.names)]
    if named:
        return Outcome(case, "warned", f"{detail}; {named[0]}")
    return Outcome(case, "silent", detail)


def run_fuzz(cases: Sequence[Case]) -> list[Outcome]:
    """Run ``cases``; return their outcomes in order."""
    with tempfile.TemporaryDirectory() as tmp:
        return [run_case(case, Path(tmp)) for case in cases]


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Counts per outcome kind."""
    return dict(collections.Counter(o.kind for o in outcomes))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--cases N --seed S``; prints the counts and every bad case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    outcomes = run_fuzz(draw_cases(args.cases, seed=args.seed))
    for outcome in outcomes:
        if outcome.kind in ("traceback", "silent"):
            print(outcome.kind, outcome.case, outcome.detail)  # noqa: T201
    print(summarise(outcomes))  # noqa: T201
    return 0 if not any(o.kind in ("traceback", "silent") for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
