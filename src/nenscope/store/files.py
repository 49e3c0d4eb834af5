"""Content-addressed DICOM file store: a file lives at ``dicom/ab/cdef…`` named by its SHA-256.

The same bytes are stored once whatever their origin (upload, PACS, a push to the Storage SCP);
the database only refers to the digest. Writes go to a temporary name in the same folder and
are renamed into place, so a crash never leaves a half-written file under a digest.

:meth:`FileStore.put_from` stores a file that is already on disk (``cohort run --db``) as a
hard link where the store is on the same file system: no second copy of a study's bytes. The
linked file is hashed again through the link and must hold exactly the bytes that were read
(and parsed); otherwise, or where a link cannot be made (another file system, a file system
without hard links), the bytes are copied as :meth:`FileStore.put` does. A hard-linked file is
the source file: a program that later rewrites the source *in place* changes the store's copy
too (tools that save to a new file and rename it do not); ``nenscope`` never writes there.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from pathlib import Path

__all__ = ["FileStore"]


class FileStore:
    """Files by SHA-256 under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the file with this digest lives (it may not exist)."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"Not a SHA-256 hex digest: {sha256!r}.")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its SHA-256 hex digest."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def put_from(self, source: Path, data: bytes) -> tuple[str, bool]:
        """Store ``data``, read from the file ``source``, as a hard link to it where possible.

        Parameters
        ----------
        source
            The file ``data`` was read from.
        data
            Its bytes (as read and parsed by the caller).

        Returns
        -------
        tuple[str, bool]
            The SHA-256 hex digest of ``data`` and whether the store now holds a hard link to
            ``source`` (``False``: the digest was stored already, or the bytes were copied
            because no link could be made or ``source`` no longer holds ``data``).
        """
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest, False
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".incoming-{secrets.token_hex(8)}"
        try:
            os.link(source, tmp)
        except OSError:
            # Another file system (EXDEV), or one without hard links: copy.
            return self.put(data), False
        try:
            if _file_sha256(tmp) != digest:
                # The source changed since it was read: store the bytes that were parsed.
                tmp.unlink()
                return self.put(data), False
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return digest, True

    def read(self, sha256: str) -> bytes:
        """Return the stored bytes."""
        return self.path(sha256).read_bytes()

    def link_into(self, sha256: str, target: Path) -> None:
        """Make ``target`` show the stored file (hard link; a copy across file systems)."""
        source = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            target.write_bytes(source.read_bytes())


def _file_sha256(path: Path) -> str:
    """SHA-256 of a file's content, read in 1 MiB blocks (and flushed to disk: fsync)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
        os.fsync(handle.fileno())
    return digest.hexdigest()
