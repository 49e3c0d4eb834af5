"""Content-addressed DICOM file store: a file lives at ``dicom/ab/cdef…`` named by its SHA-256.

The same bytes are stored once whatever their origin (upload, PACS, a push to the Storage SCP);
the database only refers to the digest. Writes go to a temporary name in the same folder and
are renamed into place, so a crash never leaves a half-written file under a digest.
"""

from __future__ import annotations

import hashlib
import os
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
