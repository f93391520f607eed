"""Where recordings are kept: a port, a filesystem adapter, an in-memory one.

The gateway puts a spoken answer's audio here and the transcriber reads it back by URI, so
the two only share the store, never a request. `FilesystemBlobStore` keeps files under
`BLOB_DIR` (a volume both services mount); an S3-compatible adapter implements the same port.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse


class BlobNotFoundError(LookupError):
    """No blob at that URI (or the URI is not this store's)."""


class BlobStore(Protocol):
    """Write-once binary objects addressed by URI."""

    async def put(self, key: str, data: bytes) -> str:
        """Keep `data` under `key` (a relative path); return its URI."""
        ...

    async def get(self, uri: str) -> bytes:
        """The blob at `uri` (raises BlobNotFoundError)."""
        ...


def blob_key(prefix: str, blob_id: uuid.UUID, suffix: str) -> str:
    """A key that cannot escape the store: fixed prefix, an id, a known suffix."""
    return f"{prefix}/{blob_id}{suffix}"


class FilesystemBlobStore:
    """Blobs as files under `root`; URIs are `file://` URLs."""

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root).resolve()

    async def put(self, key: str, data: bytes) -> str:
        path = self._path(key)
        await asyncio.to_thread(self._write, path, data)
        return path.as_uri()

    async def get(self, uri: str) -> bytes:
        return await asyncio.to_thread(self._read, uri)

    def _read(self, uri: str) -> bytes:
        parsed = urlparse(uri)
        path = Path(unquote(parsed.path)).resolve()
        if parsed.scheme != "file" or not path.is_relative_to(self._root) or not path.is_file():
            raise BlobNotFoundError(uri)
        return path.read_bytes()

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root):
            raise ValueError(f"blob key outside the store: {key!r}")
        return path

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        # Write then rename, so a reader never sees half a file.
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".part")
        partial.write_bytes(data)
        os.replace(partial, path)


class MemoryBlobStore:
    """Blobs in a dict (tests, single-process tools)."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes) -> str:
        uri = f"memory://{key}"
        self._blobs[uri] = data
        return uri

    async def get(self, uri: str) -> bytes:
        try:
            return self._blobs[uri]
        except KeyError:
            raise BlobNotFoundError(uri) from None
