"""Crash-safe outputs: a result folder or file is the previous complete one or the new one.

A run killed at any point (``kill -9``, power loss, disk full) must not leave a half-written
result that looks complete: a 0-byte ``seg.dcm``, a ``report.json`` beside a truncated PDF.
Three tools, used by every writer of the product:

* :func:`staged_folder` -- the outputs are written into a hidden staging folder beside the
  output folder, flushed to disk, then swapped into place in one atomic ``renameat2``
  (``RENAME_EXCHANGE``) where Linux offers it, else two renames; a completion record
  (:data:`COMPLETION_RECORD`, listing every file with its size and SHA-256) is the last file
  written. An exception leaves the previous folder untouched.
* :func:`atomic_file` / :func:`write_text_atomic` -- one file written under a temporary name,
  flushed and renamed over the target (POSIX ``rename`` is atomic).
* :func:`read_jsonl` / :func:`append_jsonl` -- an append-only JSON-lines journal whose torn last
  line (a kill during the write) is dropped instead of blocking every resume; appends can be
  flushed to disk (``fsync``).

:func:`check_complete` tells whether a folder holds a complete result.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from nenscope import __version__
from nenscope.core.errors import WorkbenchError

__all__ = [
    "COMPLETION_RECORD",
    "IncompleteResultError",
    "append_jsonl",
    "atomic_file",
    "check_complete",
    "check_output_folder",
    "fsync_tree",
    "read_jsonl",
    "relocate",
    "staged_folder",
    "write_text_atomic",
]

COMPLETION_RECORD = "nenscope-complete.json"
"""Name of the completion record, written last into a finished result folder."""

_STAGING_MARK = ".staging-"
_RETIRED_MARK = ".retired-"


class IncompleteResultError(WorkbenchError, ValueError):
    """A result folder lacks its completion record, or a file differs from the record."""


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` (and ``root``) to disk."""
    for folder, _, names in os.walk(root):
        for name in names:
            _fsync_path(Path(folder) / name)
        _fsync_path(Path(folder), directory=True)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success flush it and rename it to ``path``.

    For writers that take a path (PDF, Parquet, DICOM). On an exception the temporary file is
    removed and ``path`` keeps its previous content.
    """
    path = Path(path)
    temp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        yield temp
        _fsync_path(temp)
        temp.replace(path)
        _fsync_path(path.parent, directory=True)
    finally:
        temp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (temporary file, fsync, rename)."""
    with atomic_file(path) as temp:
        temp.write_text(text, encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _completion(root: Path) -> dict[str, Any]:
    files = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if path.name == COMPLETION_RECORD and path.parent == root:
            continue
        files[rel] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    return {
        "complete": True,
        "nenscope_version": __version__,
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": files,
    }


def check_complete(folder: Path) -> dict[str, Any]:
    """Return the completion record of ``folder`` after checking every file it lists.

    Raises
    ------
    IncompleteResultError
        No record (the run did not finish), or a listed file is missing or differs.
    """
    record_path = Path(folder) / COMPLETION_RECORD
    try:
        record: dict[str, Any] = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise IncompleteResultError(
            f"{folder} holds no complete nenscope result: {COMPLETION_RECORD} is missing or "
            "unreadable, so the run that wrote it did not finish. Run it again."
        ) from err
    for rel, facts in record.get("files", {}).items():
        path = Path(folder) / rel
        if not path.is_file() or path.stat().st_size != facts["bytes"]:
            raise IncompleteResultError(
                f"{folder}: {rel} is missing or has another size than {COMPLETION_RECORD} "
                "records; the result was changed after it was written."
            )
        if _sha256(path) != facts["sha256"]:
            raise IncompleteResultError(
                f"{folder}: {rel} differs from its SHA-256 in {COMPLETION_RECORD}."
            )
    return record


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux ``renameat2(RENAME_EXCHANGE)``; False if absent."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # the file system cannot exchange: fall back to two renames
    raise OSError(code, os.strerror(code), str(b))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(out_dir: Path) -> None:
    """Remove staging/retired folders of ``out_dir`` left by runs that no longer exist."""
    for mark in (_STAGING_MARK, _RETIRED_MARK):
        for path in out_dir.parent.glob(f".{out_dir.name}{mark}*"):
            pid_text = path.name.rsplit("-", 2)[-2] if path.name.count("-") >= 2 else ""
            if pid_text.isdigit() and _pid_alive(int(pid_text)) and int(pid_text) != os.getpid():
                continue  # another live run's
            shutil.rmtree(path, ignore_errors=True)


def _carry_foreign(old: Path, staging: Path, owned: frozenset[str]) -> None:
    """Move entries of the previous folder that no nenscope run wrote into the new one."""
    record = old / COMPLETION_RECORD
    previous: set[str] = set()
    if record.is_file():
        with contextlib.suppress(OSError, ValueError):
            files = json.loads(record.read_text(encoding="utf-8")).get("files", {})
            previous = {rel.split("/", 1)[0] for rel in files}
    for entry in old.iterdir():
        name = entry.name
        ours = name in owned or name in previous or name == COMPLETION_RECORD
        if ours or (staging / name).exists() or name.startswith("."):
            continue
        entry.replace(staging / name)


@contextlib.contextmanager
def staged_folder(out_dir: Path, *, owned: frozenset[str] = frozenset()) -> Iterator[Path]:
    """Yield a staging folder; on success publish it as ``out_dir`` in one step.

    Parameters
    ----------
    out_dir
        The result folder (its parent is created).
    owned
        Names of entries a nenscope run writes into ``out_dir`` (outputs of earlier versions
        included). Other entries of a previous ``out_dir`` (a user's own notes) are moved into
        the new folder; the previous run's outputs are not, so none can pass for this run's.

    Notes
    -----
    Order on success: every file of the staging folder is flushed, the completion record is
    written and flushed last, then the folders are exchanged atomically (``renameat2``
    ``RENAME_EXCHANGE``; on file systems without it, ``out_dir`` is renamed aside and the
    staging folder renamed into place, so a crash between the two leaves no ``out_dir`` at
    all, never a mixed one). The previous folder is deleted afterwards. A crash at any point
    leaves ``out_dir`` as it was or complete with the new result; leftover hidden staging
    folders are removed by the next run.
    """
    out_dir = Path(out_dir).absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(out_dir)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging = out_dir.parent / f".{out_dir.name}{_STAGING_MARK}{tag}"
    staging.mkdir()
    try:
        yield staging
        if out_dir.is_dir():
            _carry_foreign(out_dir, staging, owned)
        fsync_tree(staging)
        write_text_atomic(staging / COMPLETION_RECORD, json.dumps(_completion(staging), indent=2))
        _publish(staging, out_dir, tag)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, out_dir: Path, tag: str) -> None:
    if not out_dir.exists():
        staging.rename(out_dir)
    elif out_dir.is_dir() and _exchange(staging, out_dir):
        pass  # staging now holds the previous result; the finally clause removes it
    else:
        retired = out_dir.parent / f".{out_dir.name}{_RETIRED_MARK}{tag}"
        out_dir.rename(retired)
        staging.rename(out_dir)
        shutil.rmtree(retired, ignore_errors=True)
    _fsync_path(out_dir.parent, directory=True)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON-lines journal; a torn last line (a write cut by a kill) is ignored.

    Raises
    ------
    WorkbenchError
        A line other than the last is not JSON (the journal was damaged otherwise).
    """
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as err:
            if number == len(lines) or all(not rest.strip() for rest in lines[number:]):
                break  # the last line, cut short by a kill: its case runs again
            raise WorkbenchError(
                f"Journal {path}, line {number}, is not JSON ({err}); it was damaged. Delete "
                "it or pass --restart to start the batch again."
            ) from err
        if isinstance(record, dict):
            records.append(record)
    return records


def append_jsonl(fh: IO[str], record: Mapping[str, Any], *, sync: bool) -> None:
    """Append one record as a line; with ``sync`` flush it to disk (``fsync``)."""
    fh.write(json.dumps(record) + "\n")
    fh.flush()
    if sync:
        os.fsync(fh.fileno())


def relocate(files: Mapping[str, Path], staging: Path, out_dir: Path) -> dict[str, Path]:
    """Map paths written under ``staging`` to where :func:`staged_folder` published them."""
    moved = {}
    for role, path in files.items():
        try:
            moved[role] = Path(out_dir) / Path(path).relative_to(staging)
        except ValueError:
            moved[role] = Path(path)  # written elsewhere on purpose
    return moved


def check_output_folder(out_dir: Path) -> None:
    """Create ``out_dir`` (and its parents) or refuse it with the reason.

    Raises
    ------
    WorkbenchError
        If the folder cannot be created.
    """
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WorkbenchError(f"Cannot create the output folder {out_dir}: {err}.") from err
