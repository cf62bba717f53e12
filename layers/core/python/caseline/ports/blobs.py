"""The blob store: files (attachments) kept outside the table, reached through short-lived signed URLs.

S3 in AWS (`adapters/aws/s3_blobs.py`), a directory on one machine (`adapters/embedded/blob_files.py`).
The public behaviour — which keys are valid, how large a blob may be, how long a signed URL may live — is
checked here, once, before an adapter's `_hooks` run; `tests/contract/test_blob_contract.py` holds both
adapters to it.

Keys are `/`-separated segments of letters, digits, `.`, `_` and `-` (no empty, `.` or `..` segment, no
leading `/`), at most 1024 bytes: safe as S3 keys and as relative paths under a directory.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from .clock import Clock, SystemClock

MAX_KEY_BYTES = 1024
MAX_URL_LIFETIME = timedelta(hours=1)
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._\-]{0,254}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_METADATA_NAME = re.compile(r"^[a-z0-9][a-z0-9\-]{0,63}$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+\-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+\-]{0,126}$")  # RFC 6838


class BlobNotFound(LookupError):
    """No blob under this key."""


class BlobTooLarge(ValueError):
    """The blob is larger than the store accepts."""


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Blob:
    info: BlobInfo
    data: bytes


@dataclass(frozen=True)
class SignedRequest:
    """What a client needs to call the store directly: the URL, the method and the headers to send."""

    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


def check_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"a blob key is 1 to {MAX_KEY_BYTES} bytes")
    for segment in key.split("/"):
        if not _SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise ValueError(f"invalid blob key segment {segment[:40]!r}: use letters, digits, '.', '_' and '-'")
    return key


def check_content_type(content_type: str) -> str:
    if not _CONTENT_TYPE.fullmatch(content_type or ""):
        raise ValueError(f"invalid content type {content_type[:60]!r}: expected type/subtype, lower case")
    return content_type


def check_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """Metadata travels as HTTP headers in S3: short lower-case names, printable ASCII values."""
    for name, value in metadata.items():
        if not _METADATA_NAME.fullmatch(name):
            raise ValueError(f"invalid metadata name {name[:40]!r}")
        if not isinstance(value, str) or len(value) > 1024 or not (value.isascii() and value.isprintable()):
            raise ValueError(f"metadata {name} must be printable ASCII, at most 1024 characters")
    return metadata


def check_sha256(sha256: str) -> str:
    if not _SHA256.fullmatch(sha256 or ""):
        raise ValueError("sha256 must be 64 lower-case hex digits")
    return sha256


def disposition(filename: str, *, inline: bool) -> str:
    """A Content-Disposition value that survives any filename (RFC 6266 with an RFC 8187 `filename*`)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(filename, safe='')}"


# Content types a browser may show in place without running anything: the rest always download.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"})


class BlobStore(ABC):
    """Put, read and sign access to blobs. Subclasses implement the `_hooks`."""

    def __init__(self, *, max_size: int, clock: Clock | None = None) -> None:
        if max_size <= 0:
            raise ValueError("max_size must be positive")
        self.max_size = max_size
        # The clock that decides when a signed URL expires: the one the store checks expiry against.
        self.clock: Clock = clock or SystemClock()

    # --- direct access (services, seeding, tests) ----------------------------------------------------------
    def put(self, key: str, data: bytes, *, content_type: str, metadata: dict[str, str] | None = None) -> BlobInfo:
        check_key(key)
        check_content_type(content_type)
        check_metadata(metadata or {})
        if len(data) > self.max_size:
            raise BlobTooLarge(f"{len(data)} bytes is more than the {self.max_size} bytes a blob may have")
        info = BlobInfo(key=key, size=len(data), content_type=content_type, metadata=dict(metadata or {}))
        self._put(info, data)
        return info

    def head(self, key: str) -> BlobInfo | None:
        """Size, content type and metadata, without the bytes; None when there is no such blob."""
        return self._head(check_key(key))

    def get(self, key: str) -> Blob:
        found = self._get(check_key(key))
        if found is None:
            raise BlobNotFound(key)
        return found

    def delete(self, key: str) -> None:
        """Remove the blob; removing a missing one is not an error."""
        self._delete(check_key(key))

    # --- signed URLs (clients) -----------------------------------------------------------------------------
    def presign_put(self, key: str, *, content_type: str, size: int, sha256: str,
                    expires_in: timedelta) -> SignedRequest:
        """A URL the client PUTs exactly these bytes to: the store refuses another size, type or checksum."""
        check_key(key)
        check_content_type(content_type)
        check_sha256(sha256)
        if size < 0:
            raise ValueError("size must not be negative")
        if size > self.max_size:
            raise BlobTooLarge(f"{size} bytes is more than the {self.max_size} bytes a blob may have")
        expires_at = self.clock.now() + self._lifetime(expires_in)
        return self._presign_put(key, content_type, size, sha256, expires_at, expires_in)

    def presign_get(self, key: str, *, filename: str, content_type: str, expires_in: timedelta) -> SignedRequest:
        """A URL that reads the blob, served with this content type and filename."""
        check_key(key)
        check_content_type(content_type)
        if not filename or "\x00" in filename:
            raise ValueError("a download needs a filename")
        expires_at = self.clock.now() + self._lifetime(expires_in)
        return self._presign_get(key, filename, content_type, expires_at, expires_in)

    @staticmethod
    def _lifetime(expires_in: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= expires_in <= MAX_URL_LIFETIME:
            raise ValueError(f"signed URLs live between 1 second and {MAX_URL_LIFETIME}")
        return expires_in

    # --- hooks ---------------------------------------------------------------------------------------------
    @abstractmethod
    def _put(self, info: BlobInfo, data: bytes) -> None: ...

    @abstractmethod
    def _head(self, key: str) -> BlobInfo | None: ...

    @abstractmethod
    def _get(self, key: str) -> Blob | None: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    @abstractmethod
    def _presign_put(self, key: str, content_type: str, size: int, sha256: str, expires_at: datetime,
                     expires_in: timedelta) -> SignedRequest: ...

    @abstractmethod
    def _presign_get(self, key: str, filename: str, content_type: str, expires_at: datetime,
                     expires_in: timedelta) -> SignedRequest: ...
