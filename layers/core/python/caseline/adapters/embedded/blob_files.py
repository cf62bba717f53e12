"""The blob store on one machine: files under `<data_dir>/blobs`, signed local URLs served by the gateway.

Layout: a blob is one file in one of 256 folders, named by the SHA-256 of its key (hex, `h`):
`files/<h[:2]>/<h>` holds the bytes, and its extended attribute `user.caseline.blob` the key, size, content
type and metadata (JSON). The file is written under a temporary name, given its attribute, fsynced and
renamed into place, so a reader sees a whole blob with its metadata or none. Where the file system keeps no
user attributes (macOS, some network file systems) the metadata goes in `files/<h[:2]>/<h>.json` instead,
written after the bytes: a blob exists once its metadata does. Paths never contain the key, so no key (and no
symlink among a key's folders) can lead out of the store. Creating a file or a folder is most of a small
write's cost on ext4 (0.2 to 0.9 ms of CPU each on the machine the benchmarks run on): a key-shaped tree
(`cases/<id>/<sha256>/…`) with a metadata file beside each blob made four folders and two files per email,
this layout makes one file. Copy a data directory with its attributes (`cp -a`, `rsync -X`, `tar --xattrs`):
a blob whose attribute was lost reads as missing.

Data directories from before this layout (`objects/<key>` and `meta/<key>.json`) are moved into it the
first time a store opens them (`_adopt_nested_layout`, under a lock file, so the processes of
`caseline dev --workers` move them once).

Signed URLs look like S3's: `/blobs/<key>?expires=<epoch>&...&sig=<hmac>`, an HMAC-SHA256 over the
method, the key and every other parameter, with a secret kept in the data directory (as the dev token
secret is). An upload URL also signs the size, content type and SHA-256 the bytes must have; the
gateway (`runtime/blob_routes.py`) checks them while it streams the body in.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

from ...ports.blobs import (
    INLINE_TYPES,
    Blob,
    BlobInfo,
    BlobStore,
    BlobTooLarge,
    SignedRequest,
    check_content_type,
    check_key,
    check_sha256,
    disposition,
)
from ...ports.clock import Clock

log = logging.getLogger(__name__)


class SignatureRejected(PermissionError):
    """The URL was not signed by this store, was altered, or has expired."""


class UploadRejected(ValueError):
    """The uploaded bytes are not the ones the URL was signed for."""


@dataclass(frozen=True)
class UploadTerms:
    key: str
    size: int
    content_type: str
    sha256: str


@dataclass(frozen=True)
class DownloadTerms:
    key: str
    filename: str
    content_type: str
    expires_at: int

    @property
    def content_disposition(self) -> str:
        return disposition(self.filename, inline=self.content_type in INLINE_TYPES)


def _atomic_write(target: Path, chunks: list[bytes] | None = None, source: IO[bytes] | None = None, *,
                  before_rename: Callable[[int], None] | None = None) -> None:
    """Write a temporary file beside `target`, fsync it and rename it into place; `before_rename(fd)` runs
    on the written file first (it sets the metadata attribute)."""
    directory = os.path.dirname(target)
    _make_dirs(directory)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with open(fd, "wb", closefd=True) as handle:
            if source is not None:
                source.seek(0)
                while block := source.read(1 << 20):
                    handle.write(block)
            for chunk in chunks or []:
                handle.write(chunk)
            handle.flush()
            if before_rename is not None:
                before_rename(handle.fileno())
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _make_dirs(directory: str, *, parents: bool = True) -> None:
    """`Path.mkdir(parents=True, exist_ok=True)` without its pathlib work: one mkdir when the parent exists."""
    try:
        os.mkdir(directory)
    except FileNotFoundError:
        parent = os.path.dirname(directory)
        if not parents or parent == directory:
            raise
        _make_dirs(parent)
        _make_dirs(directory, parents=False)
    except OSError:  # as pathlib: whatever the error (EEXIST, EACCES, EROFS), a directory that is there will do
        if not os.path.isdir(directory):
            raise


META_ATTRIBUTE = "user.caseline.blob"  # the extended attribute holding a blob's metadata (JSON)


def _read_meta(data_path: str, meta_path: str) -> dict:
    """A blob's metadata: the data file's attribute, else the .json beside it. FileNotFoundError when either
    the data file or (without the attribute) the metadata file is missing."""
    try:
        return json.loads(os.getxattr(data_path, META_ATTRIBUTE))
    except FileNotFoundError:
        raise
    except (AttributeError, OSError):  # ENODATA: not set; ENOTSUP: not kept here; macOS has no os.getxattr
        pass
    with open(meta_path, "rb") as handle:
        meta = json.loads(handle.read())
    if not os.path.isfile(data_path):
        raise FileNotFoundError(data_path)
    return meta


class FileBlobStore(BlobStore):
    def __init__(self, root: Path, *, max_size: int, secret_file: Path | None = None, secret: str | None = None,
                 clock: Clock | None = None, url_prefix: str = "/blobs") -> None:
        super().__init__(max_size=max_size, clock=clock)
        self.root = Path(root)
        self.url_prefix = url_prefix.rstrip("/")
        self._secret = secret.encode() if secret else None
        self._secret_file = secret_file or self.root.parent / "blob-secret"
        self._files = str(self.root / "files")
        self._attributes_kept = True  # until the file system refuses one: then .json files
        self._adopt_nested_layout()

    # --- paths ---------------------------------------------------------------------------------------------
    def _paths(self, key: str) -> tuple[str, str]:
        """The data file and the metadata file of `key`."""
        digest = hashlib.sha256(check_key(key).encode()).hexdigest()
        stem = f"{self._files}/{digest[:2]}/{digest}"
        return stem, f"{stem}.json"

    def data_path(self, key: str) -> Path:
        return Path(self._paths(key)[0])

    # --- hooks ---------------------------------------------------------------------------------------------
    def _put(self, info: BlobInfo, data: bytes) -> None:
        self._commit(info, chunks=[data])

    def _commit(self, info: BlobInfo, *, chunks: list[bytes] | None = None, source: IO[bytes] | None = None) -> None:
        data_path, meta_path = self._paths(info.key)
        meta = json.dumps({"key": info.key, "size": info.size, "content_type": info.content_type,
                           "metadata": info.metadata}).encode()
        on_file = False  # whether the data file took the metadata as its attribute

        def tag(fd: int) -> None:
            nonlocal on_file
            on_file = self._set_meta_attribute(fd, meta)

        _atomic_write(Path(data_path), chunks, source, before_rename=tag)
        if on_file:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(meta_path)  # a metadata file from before would only be ignored; it goes
        else:
            _atomic_write(Path(meta_path), [meta])

    def _set_meta_attribute(self, fd: int, meta: bytes) -> bool:
        """Put the metadata on the data file itself; False where the file system keeps no user attributes."""
        if not self._attributes_kept:
            return False
        try:
            os.setxattr(fd, META_ATTRIBUTE, meta)
        except (AttributeError, OSError) as exc:  # no os.setxattr (macOS), or ENOTSUP / EPERM / E2BIG
            if isinstance(exc, OSError) and exc.errno == errno.E2BIG:
                return False  # metadata too large for an attribute here: this blob keeps a metadata file
            self._attributes_kept = False
            log.info("%s keeps no extended attributes (%s): blob metadata goes in .json files", self.root, exc)
            return False
        return True

    def _head(self, key: str) -> BlobInfo | None:
        try:
            meta = _read_meta(*self._paths(key))
        except FileNotFoundError:
            return None
        if meta.get("key") != key:
            return None
        return BlobInfo(key=key, size=int(meta["size"]), content_type=meta["content_type"],
                        metadata=dict(meta.get("metadata") or {}))

    def _get(self, key: str) -> Blob | None:
        info = self._head(key)
        if info is None:
            return None
        try:
            return Blob(info, self.data_path(key).read_bytes())
        except FileNotFoundError:
            return None

    def _delete(self, key: str) -> None:
        data_path, meta_path = self._paths(key)
        for path in (meta_path, data_path):  # a metadata file first: a blob without it no longer exists
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    # --- the layout before this one ------------------------------------------------------------------------
    def _adopt_nested_layout(self) -> None:
        """Move blobs stored as `objects/<key>` + `meta/<key>.json` into the flat layout, once, under a lock
        (each process of `caseline dev --workers` opens the store). A crash part-way leaves every blob in one
        layout or the other, and the next start carries on."""
        nested_meta = self.root / "meta"
        if not nested_meta.is_dir():
            return
        with open(self.root / ".layout-lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not nested_meta.is_dir():
                return  # another process has just moved them
            moved = 0
            for meta_file in sorted(nested_meta.rglob("*.json")):
                key = meta_file.relative_to(nested_meta).as_posix().removesuffix(".json")
                try:
                    data_path, meta_path = self._paths(key)
                except ValueError:
                    continue  # not a key this store could have written: left where it is
                nested_data = self.root / "objects" / key
                if nested_data.is_file():
                    _make_dirs(os.path.dirname(data_path))
                    os.replace(nested_data, data_path)
                if os.path.isfile(data_path):
                    meta = json.dumps({"key": key, **json.loads(meta_file.read_bytes())}).encode()
                    with open(data_path, "rb") as moved_file:
                        tagged = self._set_meta_attribute(moved_file.fileno(), meta)
                    if not tagged:
                        _atomic_write(Path(meta_path), [meta])
                    moved += 1
                meta_file.unlink()
            leftovers = 0
            for area in ("meta", "objects"):
                for folder, _, files in sorted(os.walk(self.root / area), reverse=True):
                    leftovers += len(files)
                    with contextlib.suppress(OSError):
                        os.rmdir(folder)  # only the ones left empty
            log.info("moved %d blobs in %s to the flat layout", moved, self.root)
            if leftovers:
                log.warning("%d files in %s were not blobs (no metadata) and were left in objects/ and meta/",
                            leftovers, self.root)

    # --- signing -------------------------------------------------------------------------------------------
    def _key_bytes(self) -> bytes:
        if self._secret is None:
            self._secret = self._stored_secret(self._secret_file)
        return self._secret

    @staticmethod
    def _stored_secret(path: Path) -> bytes:
        """Created once and kept, so URLs signed before a restart still work after it."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()

    def _signature(self, method: str, key: str, params: dict[str, str]) -> str:
        canonical = "\n".join([method, key, *(f"{name}={params[name]}" for name in sorted(params))])
        return hmac.new(self._key_bytes(), canonical.encode(), hashlib.sha256).hexdigest()

    def _url(self, method: str, key: str, params: dict[str, str]) -> str:
        signed = {**params, "sig": self._signature(method, key, params)}
        return f"{self.url_prefix}/{key}?{urlencode(signed)}"

    def _presign_put(self, key: str, content_type: str, size: int, sha256: str, expires_at: datetime,
                     expires_in: timedelta) -> SignedRequest:
        params = {"expires": str(int(expires_at.timestamp())), "size": str(size), "type": content_type,
                  "sha256": sha256}
        return SignedRequest(url=self._url("PUT", key, params), method="PUT",
                             headers={"Content-Type": content_type}, expires_at=expires_at)

    def _presign_get(self, key: str, filename: str, content_type: str, expires_at: datetime,
                     expires_in: timedelta) -> SignedRequest:
        params = {"expires": str(int(expires_at.timestamp())), "filename": filename, "type": content_type}
        return SignedRequest(url=self._url("GET", key, params), method="GET", headers={}, expires_at=expires_at)

    def _verify(self, method: str, key: str, query: dict[str, str], names: set[str]) -> dict[str, str]:
        try:
            check_key(key)
        except ValueError as exc:
            raise SignatureRejected("not a valid blob key") from exc
        if set(query) != names | {"sig"}:
            raise SignatureRejected(f"a signed URL carries exactly: {', '.join(sorted(names | {'sig'}))}")
        params = {name: query[name] for name in names}
        if not hmac.compare_digest(self._signature(method, key, params), query["sig"]):
            raise SignatureRejected("the signature does not match this URL")
        if not params["expires"].isdigit() or int(params["expires"]) < self.clock.now().timestamp():
            raise SignatureRejected("this URL has expired; ask for a new one")
        return params

    def verify_get(self, key: str, query: dict[str, str]) -> DownloadTerms:
        params = self._verify("GET", key, query, {"expires", "filename", "type"})
        return DownloadTerms(key=key, filename=params["filename"], content_type=params["type"],
                             expires_at=int(params["expires"]))

    def verify_put(self, key: str, query: dict[str, str]) -> UploadTerms:
        params = self._verify("PUT", key, query, {"expires", "size", "type", "sha256"})
        return UploadTerms(key=key, size=int(params["size"]), content_type=check_content_type(params["type"]),
                           sha256=check_sha256(params["sha256"]))

    def receive(self, terms: UploadTerms) -> Upload:
        """Start taking in the bytes of a verified upload."""
        return Upload(self, terms)

    def seconds_left(self, terms: DownloadTerms) -> int:
        return max(0, terms.expires_at - int(self.clock.now().timestamp()))

    def _store_upload(self, terms: UploadTerms, spooled: IO[bytes]) -> BlobInfo:
        info = BlobInfo(key=terms.key, size=terms.size, content_type=terms.content_type,
                        metadata={"sha256": terms.sha256})
        self._commit(info, source=spooled)
        return info


class Upload:
    """An upload in progress: refuses more bytes than were signed for, then checks size and checksum."""

    def __init__(self, store: FileBlobStore, terms: UploadTerms) -> None:
        self.store = store
        self.terms = terms
        self.received = 0
        self._digest = hashlib.sha256()
        self._spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)  # noqa: SIM115

    def write(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.terms.size:
            self.abort()
            raise BlobTooLarge(f"the URL was signed for {self.terms.size} bytes; more arrived")
        self._digest.update(chunk)
        self._spool.write(chunk)

    def finish(self) -> BlobInfo:
        try:
            if self.received != self.terms.size:
                raise UploadRejected(f"the URL was signed for {self.terms.size} bytes; {self.received} arrived")
            if self._digest.hexdigest() != self.terms.sha256:
                raise UploadRejected("the bytes do not have the SHA-256 the URL was signed for")
            return self.store._store_upload(self.terms, self._spool)
        finally:
            self.abort()

    def abort(self) -> None:
        self._spool.close()

