"""Content-addressed file storage for ticket attachments, on local disk.

Files live at `<root>/<tenant>/<sha256[:2]>/<sha256>` (the root is `<var_dir>/attachments`). An upload
is streamed into a temporary file under `<root>/tmp` (same file system) while it is hashed and counted;
only once the caller has accepted it is it renamed into place, atomically, so no reader ever sees a
partial file. Content already stored for the tenant is not written twice: the temporary copy is dropped.
Tenants never share a file, so a tenant's files can be exported or erased by removing its directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from scrm.core.errors import PayloadTooLarge

CHUNK = 64 * 1024
HEAD_BYTES = 8 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Received:
    """An upload in its temporary file: its hash, size and first bytes (for sniffing)."""

    temp_path: Path
    sha256: str
    size: int
    head: bytes


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, tenant_id: int, sha256: str) -> Path:
        """Where the tenant's content with this hash lives (whether or not it exists). Raises ValueError
        on anything but a lower-case hex SHA-256, so a stored value can never walk out of the root."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / str(int(tenant_id)) / sha256[:2] / sha256

    @contextlib.contextmanager
    def receive(self, source: BinaryIO, *, max_bytes: int) -> Iterator[Received]:
        """Stream `source` into a temporary file, hashing it; the file is removed on leaving the block
        unless `keep` moved it into place. Raises PayloadTooLarge (nothing left on disk) past
        `max_bytes`."""
        temp_dir = self.root / "tmp"
        temp_dir.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=temp_dir, prefix="upload-", delete=False)  # noqa: SIM115
        temp_path = Path(handle.name)
        try:
            digest, size, head = hashlib.sha256(), 0, b""
            with handle:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge(f"the file is over the {max_bytes}-byte limit")
                    if len(head) < HEAD_BYTES:
                        head += chunk[: HEAD_BYTES - len(head)]
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            received = Received(temp_path, digest.hexdigest(), size, head)
            yield received
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp_path.unlink()

    def keep(self, received: Received, tenant_id: int) -> Path:
        """Move the upload into its content address (atomic rename); when the tenant already has that
        content, keep the stored file and drop the upload. Returns the stored path."""
        target = self.path_of(tenant_id, received.sha256)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Two uploads of the same content may race here: both renames put identical bytes in place.
            os.replace(received.temp_path, target)
        return target
