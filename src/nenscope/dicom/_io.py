"""Low-level DICOM file access shared by discovery and the series reader.

One place decides what counts as a DICOM file, how gzip-compressed files are opened, how
attributes are read tolerantly and how pixel data become a numpy array. Nothing here builds
volumes.
"""

from __future__ import annotations

import gc
import gzip
import io
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import UID

from nenscope.core.diagnostics import suppress_library_warnings
from nenscope.core.errors import DicomImportError, MissingAttributeError

__all__ = [
    "GZIP_MAGIC",
    "FrameDecoder",
    "attribute_tag",
    "decode_frames",
    "get_float",
    "get_float_array",
    "get_floats",
    "get_int",
    "get_str",
    "peek_modality",
    "quiet_pydicom",
    "raw_key",
    "raw_text",
    "read_dataset",
    "read_header",
    "read_pixels_at",
    "require",
]

GZIP_MAGIC = b"\x1f\x8b"
"""First two bytes of a gzip stream; such files are decompressed before parsing."""

_NATIVE_LITTLE_ENDIAN = {
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
}


def attribute_tag(keyword: str) -> str:
    """Return ``"Keyword (gggg,eeee)"`` for messages (STYLE 5.2).

    Examples
    --------
    >>> attribute_tag("RescaleSlope")
    'RescaleSlope (0028,1053)'
    """
    tag = pydicom.datadict.tag_for_keyword(keyword)
    if tag is None:
        return keyword
    return f"{keyword} ({tag >> 16:04X},{tag & 0xFFFF:04X})"


def read_dataset(
    path: Path, *, headers_only: bool, keywords: Sequence[str] | None = None
) -> tuple[Dataset, tuple[str, ...]]:
    """Parse one file as DICOM, tolerating a missing preamble and gzip compression.

    Parameters
    ----------
    path
        File to read.
    headers_only
        Stop before the pixel data (discovery) or read everything (series reader).
    keywords
        Read only these attributes (much faster for discovery); default: all.

    Returns
    -------
    tuple
        The dataset and the deviations accepted while reading it (empty for a conforming file).

    Raises
    ------
    DicomImportError
        If the file is not DICOM, is truncated or cannot be parsed; the message names the file.
    """
    ds, notes, _ = _read(path, headers_only=headers_only, keywords=keywords, touch=headers_only)
    return ds, notes


_MAX_VALUE_LENGTH = {
    "AE": 16,
    "AS": 4,
    "CS": 16,
    "DA": 8,
    "DS": 16,
    "DT": 26,
    "IS": 12,
    "LO": 64,
    "SH": 16,
    "TM": 16,
    "UI": 64,
}
"""Maximum length of one value per text VR (PS3.5 table 6.2-1), as pydicom validates it."""


def _convert_overlong_values(ds: Dataset) -> None:
    """Convert, quietly, top-level text elements whose stored value is longer than allowed.

    pydicom warns about such values on first access; converting just these few now keeps the
    warning out of every later reader of the header (real exports have them: MIRP's re-export
    of the TCIA PET stores an 18-character StudyID, SH allows 16). Costs under 10 % of a
    header parse; nested sequence items are not scanned.
    """
    overlong = []
    # Dataset.items() yields the stored (raw) elements without converting them.
    for tag, elem in ds.items():
        value = getattr(elem, "value", None)
        # Values of up to 16 bytes break only the rare AS/DA/IS limits: not worth a look-up.
        if (
            not isinstance(elem, RawDataElement)
            or not isinstance(value, bytes)
            or len(value) <= 16
        ):
            continue
        vr = elem.VR
        if vr is None:
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                continue
        limit = _MAX_VALUE_LENGTH.get(vr)
        if (
            limit is not None
            and len(value) > limit
            and max(len(v.strip(b" \x00")) for v in value.split(b"\\")) > limit
        ):
            overlong.append(tag)
    if overlong:
        with quiet_pydicom():
            for tag in overlong:
                _ = ds[tag]


def read_header(path: Path) -> tuple[Dataset, tuple[str, ...], int | None]:
    """Parse a file's header up to the pixel data and say where the pixel data start.

    Returns
    -------
    tuple
        The header (values converted lazily), the deviations accepted, and the byte offset of
        the PixelData (7FE0,0010) element in the file, or ``None`` when the file was
        decompressed in memory (gzip) and must be read whole.
    """
    ds, notes, offset = _read(path, headers_only=True, keywords=None, touch=False)
    _convert_overlong_values(ds)
    return ds, notes, offset


def _read(
    path: Path, *, headers_only: bool, keywords: Sequence[str] | None, touch: bool
) -> tuple[Dataset, tuple[str, ...], int | None]:
    deviations: list[str] = []
    offset: int | None = None
    try:
        with path.open("rb") as fh:
            head = fh.read(2)
            fh.seek(0)
            if head == GZIP_MAGIC:
                try:
                    source: Any = io.BytesIO(gzip.decompress(fh.read()))
                except (OSError, EOFError) as err:
                    raise DicomImportError(f"{path} is a damaged gzip file: {err}.") from err
                deviations.append(
                    f"{path.name}: gzip-compressed file, decompressed before reading"
                )
            elif keywords is None:
                # Whole-header parses run ~20 % faster from memory (pydicom calls tell() per
                # element); the FileDataset's reference to the buffer is dropped below so
                # that the file's bytes do not stay alive with the header.
                source = io.BytesIO(fh.read())
            else:
                source = fh
            ds = _parse_tolerant(
                source,
                headers_only=headers_only,
                path=path,
                notes=deviations,
                keywords=keywords,
                touch=touch,
            )
            if head != GZIP_MAGIC:
                # pydicom rewinds to the start of the element it stopped at (PixelData).
                offset = source.tell()
            if isinstance(ds, FileDataset):
                ds.buffer = None
    except OSError as err:
        raise DicomImportError(f"Cannot read {path}: {err.strerror or err}.") from err
    return ds, tuple(deviations), offset


def _parse_tolerant(
    source: Any,
    *,
    headers_only: bool,
    path: Path,
    notes: list[str],
    keywords: Sequence[str] | None,
    touch: bool,
) -> Dataset:
    """Parse as DICOM Part 10, else retry without preamble if it still looks like DICOM."""
    try:
        return _parse(
            source,
            headers_only=headers_only,
            force=False,
            path=path,
            keywords=keywords,
            touch=touch,
        )
    except InvalidDicomError:
        source.seek(0)
    ds = _parse(
        source, headers_only=headers_only, force=True, path=path, keywords=keywords, touch=touch
    )
    if "SOPClassUID" not in ds or "SeriesInstanceUID" not in ds:
        raise DicomImportError(
            f"{path} is not a DICOM file: no 'DICM' preamble and no SOPClassUID "
            "(0008,0016) / SeriesInstanceUID (0020,000E). Remove it from the folder or "
            "ignore it."
        ) from None
    notes.append(f"{path.name}: no DICOM preamble/file meta header; parsed without it")
    return ds


class _DropRecords(logging.Filter):
    """Logging filter that drops every record (pydicom's header-validation chatter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block, then restore its state.

    Reading a series keeps hundreds of headers alive, each made of thousands of small
    objects; the collector would re-scan all of them again and again while they are created
    (about a third of the CPU time of reading a 267-slice PET). Reference counting still
    frees everything as usual; only the cycle search waits until the block ends.

    Also used where the analysis builds many objects while it holds ~320,000 others (issue 10
    item 6): the SEG and SR writers, the figures and the PDF, the background imports
    (:mod:`nenscope.pipeline.preload`). Safe across threads in that the collector ends up
    enabled once every block that found it enabled has ended.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def quiet_pydicom() -> Iterator[None]:
    """Silence pydicom's value-validation warnings and log records inside the block.

    Thread-safe: the block holds the process-wide lock of
    :func:`nenscope.core.diagnostics.suppress_library_warnings` (re-entrant), so that
    parallel readers never leave the warnings module's global filters silenced.

    A tolerant reader keeps odd values as read (a 17-character SH, a malformed DS) and reports
    what matters itself; pydicom would otherwise warn on first access, which test suites that
    turn warnings into errors cannot tell from real problems.
    """
    pydicom_logger = logging.getLogger("pydicom")
    drop = _DropRecords()
    # The lock of suppress_library_warnings also covers the logger filter: two threads never
    # interleave the swaps of the warnings module's (process-global) filters.
    with suppress_library_warnings():
        pydicom_logger.addFilter(drop)
        try:
            yield
        finally:
            pydicom_logger.removeFilter(drop)


def _touch(ds: Dataset) -> None:
    """Convert every raw element (nested items included) so that parsing happens now."""
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                _touch(item)


def _parse(
    source: Any,
    *,
    headers_only: bool,
    force: bool,
    path: Path | None = None,
    keywords: Sequence[str] | None = None,
    touch: bool = False,
) -> Dataset:
    """Run ``pydicom.dcmread`` and turn parser failures into :class:`DicomImportError`.

    With ``touch`` every element is converted inside the guard, so that damaged values fail
    here with the file named (discovery, which reads few attributes). Otherwise values are
    converted lazily, which is three times faster on a real PET header; the accessors here
    convert inside :func:`quiet_pydicom`.
    """
    name = path if path is not None else source
    try:
        with quiet_pydicom():
            ds = pydicom.dcmread(
                source,
                stop_before_pixels=headers_only,
                force=force,
                specific_tags=list(keywords) if keywords is not None else None,
            )
            if touch:
                _touch(ds)
    except InvalidDicomError:
        raise
    except Exception as err:  # pydicom raises many types (struct.error, ...) on damaged bytes
        raise DicomImportError(
            f"Cannot parse {name} as DICOM: {type(err).__name__}: {err}. The file is probably "
            "truncated or damaged; re-export it from the PACS or remove it."
        ) from err
    return ds


def get_str(ds: Dataset, keyword: str, default: str = "") -> str:
    """Return an attribute as a stripped string, or ``default`` when absent or empty."""
    with quiet_pydicom():
        value = ds.get(keyword)
    if value is None or value == "":
        return default
    return str(value).strip()


def require(ds: Dataset, keyword: str, *, path: Path | str) -> Any:
    """Return a Type 1 attribute's value or raise :class:`MissingAttributeError`."""
    with quiet_pydicom():
        value = ds.get(keyword)
    if value is None or value == "" or (isinstance(value, Sequence) and len(value) == 0):
        raise MissingAttributeError(
            f"{path}: {attribute_tag(keyword)} is missing or empty. It is required to build an "
            "image volume; correct the header or re-export the series."
        )
    return value


def _text_numbers(ds: Dataset, keyword: str) -> tuple[float, ...] | None:
    """Parse a not-yet-converted DS/IS element straight from its bytes, else ``None``.

    pydicom converts (and validates) an element on first access, which costs tens of µs per
    element; a series reader touches a few per slice. Anything unusual falls back to the
    normal path, which then reports errors properly.
    """
    elem: Any = ds.get_item(keyword)  # DataElement, RawDataElement or None
    if not isinstance(elem, RawDataElement) or elem.VR not in (None, "DS", "IS"):
        return None
    if not isinstance(elem.value, bytes) or dictionary_VR(keyword) not in ("DS", "IS"):
        return None
    try:
        values = tuple(float(v) for v in elem.value.decode("ascii").split("\\"))
    except (UnicodeDecodeError, ValueError):
        return None
    return values if all(np.isfinite(values)) else None


def raw_text(ds: Dataset, keyword: str) -> str:
    """Return a short ASCII attribute (UI, CS, SH) without pydicom's conversion, stripped.

    Falls back to :func:`get_str` when the element was converted already or is not plain
    bytes. Used where a reader looks at the same few attributes of every file.
    """
    elem: Any = ds.get_item(keyword)
    if elem is None:
        return ""
    value = elem.value
    if isinstance(elem, RawDataElement) and isinstance(value, bytes):
        try:
            return value.decode("ascii").strip(" \x00")
        except UnicodeDecodeError:
            pass
    return get_str(ds, keyword)


def _raw_unsigned_short(ds: Dataset, keyword: str) -> int | None:
    """Return a little-endian US value straight from its bytes, or ``None``."""
    elem: Any = ds.get_item(keyword)
    if not isinstance(elem, RawDataElement) or not isinstance(elem.value, bytes):
        return None
    encoding = getattr(ds, "original_encoding", (None, None))
    if len(elem.value) != 2 or encoding[1] is not True or elem.VR not in (None, "US"):
        return None
    return int.from_bytes(elem.value, "little")


def get_int(ds: Dataset, keyword: str, default: int, *, path: Path | str) -> int:
    """Return an integer attribute, ``default`` when absent or empty; raise when unreadable.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.NumberOfFrames = "3"
    >>> get_int(ds, "NumberOfFrames", 1, path="x.dcm"), get_int(ds, "Rows", 0, path="x.dcm")
    (3, 0)
    """
    if keyword in ("Rows", "Columns"):
        fast = _raw_unsigned_short(ds, keyword)
        if fast is not None:
            return fast
    with quiet_pydicom():
        try:
            value = ds.get(keyword)
        except (TypeError, ValueError) as err:
            raise DicomImportError(
                f"{path}: {attribute_tag(keyword)} cannot be read as an integer: {err}."
            ) from err
    if value is None or value == "":
        return default
    try:
        result = float(value)
    except (TypeError, ValueError) as err:
        raise DicomImportError(
            f"{path}: {attribute_tag(keyword)} must be an integer, not {value!r}."
        ) from err
    if not result.is_integer():
        raise DicomImportError(
            f"{path}: {attribute_tag(keyword)} must be an integer, not {value!r}."
        )
    return int(result)


def get_float(ds: Dataset, keyword: str, default: float, *, path: Path | str) -> float:
    """Return a numeric attribute as float, ``default`` when absent; raise when unreadable."""
    fast = _text_numbers(ds, keyword)
    if fast is not None and len(fast) == 1:
        return fast[0]
    with quiet_pydicom():
        value = ds.get(keyword)
    if value is None or value == "":
        return default
    try:
        result = float(value)
    except (TypeError, ValueError) as err:
        raise DicomImportError(
            f"{path}: {attribute_tag(keyword)} must be a number, not {value!r}."
        ) from err
    if not np.isfinite(result):
        raise DicomImportError(f"{path}: {attribute_tag(keyword)} must be finite, not {value!r}.")
    return result


def get_floats(ds: Dataset, keyword: str, count: int, *, path: Path | str) -> tuple[float, ...]:
    """Return a required multi-valued numeric attribute with exactly ``count`` finite values."""
    fast = _text_numbers(ds, keyword)
    if fast is not None and len(fast) == count:
        return fast
    value = require(ds, keyword, path=path)
    try:
        values = tuple(float(v) for v in (value if isinstance(value, Sequence) else [value]))
    except (TypeError, ValueError) as err:
        raise DicomImportError(
            f"{path}: {attribute_tag(keyword)} must hold {count} numbers, not {value!r}."
        ) from err
    if len(values) != count or not all(np.isfinite(values)):
        raise DicomImportError(
            f"{path}: {attribute_tag(keyword)} must hold {count} finite numbers, "
            f"found {list(values)}."
        )
    return values


def get_float_array(ds: Dataset, keyword: str, *, path: Path | str) -> npt.NDArray[np.float64]:
    """Return a long DS attribute (e.g. ContourData) as a float64 array; empty if absent.

    Raw DS bytes are parsed by numpy in one call (pydicom converts value by value).

    Raises
    ------
    DicomImportError
        If a value is not a finite number.
    """
    elem: Any = ds.get_item(keyword)
    if elem is None:
        return np.empty(0)
    raw = elem.value
    try:
        if isinstance(elem, RawDataElement) and isinstance(raw, bytes):
            values = np.array(raw.split(b"\\"), dtype=np.float64) if raw.strip() else np.empty(0)
        else:
            with quiet_pydicom():
                value = ds.get(keyword)
            items = (
                value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
            )
            values = np.array([float(v) for v in items if v is not None], dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DicomImportError(
            f"{path}: {attribute_tag(keyword)} must hold numbers: {err}."
        ) from err
    if not np.all(np.isfinite(values)):
        raise DicomImportError(f"{path}: {attribute_tag(keyword)} holds non-finite values.")
    return values


def peek_modality(path: Path) -> str:
    """Return Modality (0008,0060) of a file after parsing as little as possible, or ""."""
    try:
        with quiet_pydicom(), path.open("rb") as fh:
            if fh.read(2) == GZIP_MAGIC:
                return ""
            fh.seek(0)
            ds = pydicom.dcmread(fh, stop_before_pixels=True, specific_tags=["Modality"])
            return str(ds.get("Modality", "") or "").strip()
    except Exception:  # anything unparsable simply is not a mask file
        return ""


def raw_key(ds: Dataset, keywords: Sequence[str]) -> tuple[object, ...]:
    """Cheap identity of some attributes' stored values (raw bytes where not converted).

    Two datasets with equal keys have equal values; unequal keys may still hold equal values
    (one converted, one raw), so callers use this only to skip repeated work.
    """
    key: list[object] = []
    for keyword in keywords:
        elem: Any = ds.get_item(keyword)
        value = None if elem is None else elem.value
        key.append(value if isinstance(value, bytes | str | int | float | None) else repr(value))
    return tuple(key)


def _transfer_syntax(ds: Dataset) -> str:
    """TransferSyntaxUID (0002,0010) of the file, or "" when there is no file meta."""
    meta = getattr(ds, "file_meta", None)
    return str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""


def _native_layout(ds: Dataset, *, need_pixels: bool = True) -> tuple[np.dtype[Any], int] | None:
    """Return the dtype and BitsStored of a plain uncompressed frame, or ``None``.

    ``None`` means a pydicom decoder is needed (compressed or big-endian data, colour, unusual
    bit layouts).
    """
    tsyntax = _transfer_syntax(ds)
    if not tsyntax or tsyntax not in _NATIVE_LITTLE_ENDIAN:
        return None
    bits = ds.get("BitsAllocated")
    stored = ds.get("BitsStored")
    signed = ds.get("PixelRepresentation")
    if bits not in (8, 16, 32) or not isinstance(stored, int) or signed not in (0, 1):
        return None
    if not 0 < stored <= bits or ds.get("HighBit", stored - 1) != stored - 1:
        return None
    if get_int(ds, "SamplesPerPixel", 1, path="") != 1 or (need_pixels and "PixelData" not in ds):
        return None
    kind = "i" if signed == 1 else "u"
    return np.dtype(f"<{kind}{bits // 8}"), stored


def _restore_bits(arr: npt.NDArray[Any], stored: int) -> npt.NDArray[Any]:
    """Keep only the BitsStored low bits: mask unsigned values, sign-extend signed ones.

    Matches pydicom's decoders (PS3.5 8.1.1): bits above HighBit are not part of the value.

    Examples
    --------
    >>> _restore_bits(np.array([0xF001], dtype=np.uint16), 12).tolist()
    [1]
    >>> _restore_bits(np.array([0x0800], dtype=np.int16), 12).tolist()
    [-2048]
    """
    bits = arr.dtype.itemsize * 8
    if stored >= bits:
        return arr
    if arr.dtype.kind == "u":
        return np.asarray(np.bitwise_and(arr, np.array((1 << stored) - 1, dtype=arr.dtype)))
    shift = np.array(bits - stored, dtype=arr.dtype)
    return np.asarray(np.right_shift(np.left_shift(arr, shift), shift))


_PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"
"""(7FE0,0010) as little-endian bytes."""


def read_pixels_at(
    path: Path, offset: int, ds: Dataset, *, layouts: dict[tuple[object, ...], Any] | None = None
) -> npt.NDArray[Any] | None:
    """Read plain little-endian pixel data straight from the file, without parsing it again.

    Parameters
    ----------
    path
        The file whose header ``ds`` is (read by :func:`read_header`).
    offset
        Byte offset of the PixelData (7FE0,0010) element, from :func:`read_header`.
    ds
        The header, for the pixel format (BitsAllocated, Rows, Columns, ...).
    layouts
        A dict the caller keeps for one series: the pixel layout is then worked out once per
        distinct set of pixel-format values instead of once per file.

    Returns
    -------
    numpy.ndarray or None
        Stored values ``(frames, rows, columns)``, or ``None`` when the data are compressed,
        big-endian or unusual, so that the caller must parse the whole file.

    Raises
    ------
    DicomImportError
        If the file ends before the pixel data do (truncated file).
    """
    meta = getattr(ds, "file_meta", None)
    if meta is None or "TransferSyntaxUID" not in meta:
        return None
    key = (str(meta.TransferSyntaxUID), *raw_key(ds, _PIXEL_FORMAT))
    layout = layouts.get(key) if layouts is not None else None
    if layout is None:
        layout = (
            _native_layout(ds, need_pixels=False),
            get_int(ds, "Rows", 0, path=path),
            get_int(ds, "Columns", 0, path=path),
            get_int(ds, "NumberOfFrames", 1, path=path) or 1,
            str(meta.TransferSyntaxUID) == "1.2.840.10008.1.2.1",
        )
        if layouts is not None:
            layouts[key] = layout
    native, rows, cols, frames, explicit = layout
    if native is None:
        return None
    dtype, stored = native
    expected = rows * cols * frames * dtype.itemsize
    with path.open("rb") as fh:
        fh.seek(offset)
        head = fh.read(12 if explicit else 8)
        if len(head) < len(b"12345678") or head[:4] != _PIXEL_DATA_TAG:
            return None
        if explicit and head[4:6] not in (b"OW", b"OB"):
            return None
        length = int.from_bytes(head[8:12] if explicit else head[4:8], "little")
        if length == 0xFFFFFFFF or expected == 0:
            return None  # encapsulated (compressed) data, or no geometry: parse the file
        data = fh.read(expected)
    if len(data) < expected or length < expected:
        raise DicomImportError(
            f"{path}: PixelData (7FE0,0010) holds {min(len(data), length)} bytes, expected "
            f"{expected} ({frames} frame(s) × {rows} rows × {cols} columns × "
            f"{dtype.itemsize} bytes). The file is truncated; re-export it."
        )
    _refuse_overlong(length, expected, frames, rows, cols, dtype, path=path)
    flat = np.frombuffer(data, dtype=dtype, count=rows * cols * frames)
    return _restore_bits(flat.reshape(frames, rows, cols), stored)


_PIXEL_FORMAT = (
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "SamplesPerPixel",
    "Rows",
    "Columns",
    "NumberOfFrames",
)


class FrameDecoder:
    """Decode the frames of many datasets, working out each pixel layout only once.

    The layout (dtype, frames, rows, columns) of plain uncompressed data is remembered per
    distinct set of pixel-format attribute values for the life of this object only.
    """

    def __init__(self) -> None:
        self._layouts: dict[
            tuple[object, ...], tuple[tuple[np.dtype[Any], int] | None, int, int, int]
        ] = {}

    def decode(self, ds: Dataset, *, path: Path | str) -> npt.NDArray[Any]:
        """Return the stored values of ``ds`` as ``(frames, rows, columns)``; see decode_frames."""
        if "PixelData" not in ds:
            return decode_frames(ds, path=path)
        key = (_transfer_syntax(ds), *raw_key(ds, _PIXEL_FORMAT))
        layout = self._layouts.get(key)
        if layout is None:
            rows = int(require(ds, "Rows", path=path))
            cols = int(require(ds, "Columns", path=path))
            frames = get_int(ds, "NumberOfFrames", 1, path=path) or 1
            layout = (_native_layout(ds), frames, rows, cols)
            self._layouts[key] = layout
        native, frames, rows, cols = layout
        if native is None:
            return decode_frames(ds, path=path)
        view = _view_native(ds.PixelData, native[0], frames, rows, cols, path=path)
        return _restore_bits(view, native[1])


def _view_native(
    buffer: bytes | None,
    dtype: np.dtype[Any],
    frames: int,
    rows: int,
    cols: int,
    *,
    path: Path | str,
) -> npt.NDArray[Any]:
    if not buffer:
        raise MissingAttributeError(
            f"{path}: PixelData (7FE0,0010) is missing or empty, so the file holds no image. "
            "Remove it from the series or re-export the images."
        )
    expected = rows * cols * frames * dtype.itemsize
    if len(buffer) < expected:
        raise DicomImportError(
            f"{path}: PixelData (7FE0,0010) holds {len(buffer)} bytes, expected {expected} "
            f"({frames} frame(s) × {rows} rows × {cols} columns × {dtype.itemsize} bytes). "
            "The file is truncated; re-export it."
        )
    _refuse_overlong(len(buffer), expected, frames, rows, cols, dtype, path=path)
    flat = np.frombuffer(buffer, dtype=dtype, count=rows * cols * frames)
    return flat.reshape(frames, rows, cols)


def _refuse_overlong(
    length: int,
    expected: int,
    frames: int,
    rows: int,
    cols: int,
    dtype: np.dtype[Any],
    *,
    path: Path | str,
) -> None:
    """Refuse native PixelData longer than the image (beyond the one byte of even padding).

    Extra bytes mean Rows, Columns, BitsAllocated or NumberOfFrames do not describe the data
    (PS3.5 §8.1.1): reading the first ``expected`` bytes would give a wrongly shaped image.
    """
    if length <= expected + expected % 2:
        return
    raise DicomImportError(
        f"{path}: PixelData (7FE0,0010) holds {length} bytes, but {frames} frame(s) × {rows} "
        f"Rows × {cols} Columns × {dtype.itemsize} bytes (BitsAllocated) make {expected}; "
        "Rows (0028,0010), Columns (0028,0011) or BitsAllocated (0028,0100) do not describe "
        "the pixel data. Correct or re-export the file."
    )


def decode_frames(ds: Dataset, *, path: Path | str) -> npt.NDArray[Any]:
    """Return the stored pixel values as ``(frames, rows, columns)``, before rescaling.

    Plain little-endian data are viewed directly (no copy, no decoder); compressed data go
    through pydicom's pixel data handlers. Nothing is cached on ``ds``.

    Raises
    ------
    DicomImportError
        If the pixel data are missing, truncated, colour or cannot be decoded.
    """
    if "PixelData" not in ds:
        if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
            raise DicomImportError(
                f"{path}: float pixel data are not supported; PixelData (7FE0,0010) expected."
            )
        raise MissingAttributeError(
            f"{path}: PixelData (7FE0,0010) is missing, so the file holds no image. Remove it "
            "from the series or re-export the images."
        )
    rows = int(require(ds, "Rows", path=path))
    cols = int(require(ds, "Columns", path=path))
    frames = get_int(ds, "NumberOfFrames", 1, path=path) or 1
    if get_int(ds, "SamplesPerPixel", 1, path=path) != 1:
        raise DicomImportError(
            f"{path}: SamplesPerPixel (0028,0002) is {ds.SamplesPerPixel}; nenscope reads "
            "grey-scale images only (1 sample per pixel)."
        )
    native = _native_layout(ds)
    if native is not None:
        view = _view_native(ds.PixelData, native[0], frames, rows, cols, path=path)
        return _restore_bits(view, native[1])
    tsyntax = UID(_transfer_syntax(ds) or "1.2.840.10008.1.2")
    try:
        decoder = get_decoder(tsyntax)
    except NotImplementedError as err:
        raise DicomImportError(
            f"{path}: transfer syntax {tsyntax} ({tsyntax.name}) has no pixel data decoder "
            "in pydicom. Decompress the file (e.g. with dcmdjpeg/gdcmconv) first."
        ) from err
    if not decoder.is_available:
        raise DicomImportError(
            f"{path}: transfer syntax {tsyntax.name} needs a decoding plugin that is not "
            f"installed ({', '.join(sorted(decoder.missing_dependencies)) or 'unknown'}). "
            "Install pylibjpeg/gdcm or decompress the file first."
        )
    try:
        with suppress_library_warnings():
            arr, _ = decoder.as_array(ds)
    except Exception as err:  # decoders raise a wide range of errors on damaged streams
        raise DicomImportError(
            f"{path}: cannot decode PixelData (7FE0,0010) with transfer syntax "
            f"{tsyntax.name}: {err}. The file is probably truncated or damaged."
        ) from err
    return np.asarray(arr).reshape(frames, rows, cols)
