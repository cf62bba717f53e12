"""Attachments: files on replies and notes, kept in the blob store and reached through signed URLs.

The flow: the client asks for an upload (`request_upload`) and gets a URL signed for exactly its bytes
(size, type, SHA-256), PUTs them there, then sends the returned `AttachmentRef` with a reply or note.
`check_attachments` accepts a ref only when the blob is there, under that case's prefix, with the declared
size and type. Downloads hand out a GET URL valid for five minutes, to whoever may read the interaction
that carries the file.

Blob keys: `cases/<case id>/<sha256>/<safe filename>`. The case id in the key is what ties a file to a
case; the filename in the ref is what people see.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain.auth import Role
from ..domain.case import Case
from ..domain.errors import NotFound, RuleViolation
from ..domain.interaction import AttachmentRef, Visibility
from ..ports.blobs import BlobStore, check_content_type
from .authz import check_case_access, require_staff
from .commands import RequestUpload
from .context import Deps, Request

UPLOAD_URL_LIFETIME = timedelta(minutes=15)
DOWNLOAD_URL_LIFETIME = timedelta(minutes=5)
MAX_SCANNED_PAGES = 100  # interactions read while looking for a file: 100 pages of 200

# Files that run when opened. Refused by extension and by declared type, whatever the other says.
DENIED_EXTENSIONS = frozenset({
    "app", "apk", "appx", "bat", "cmd", "com", "cpl", "dll", "dmg", "elf", "exe", "gadget", "hta", "inf",
    "ins", "isp", "jar", "js", "jse", "ksh", "lnk", "msc", "msi", "msix", "msp", "mst", "pif", "pkg", "ps1",
    "ps1xml", "psc1", "psm1", "reg", "scf", "scr", "sct", "sh", "shb", "so", "sys", "vb", "vbe", "vbs", "ws",
    "wsc", "wsf", "wsh", "xbap", "bash", "csh", "run", "command", "deb", "rpm",
})
DENIED_TYPES = frozenset({
    "application/x-msdownload", "application/x-msdos-program", "application/x-dosexec", "application/x-executable",
    "application/x-elf", "application/x-sharedlib", "application/x-mach-binary", "application/x-sh",
    "application/x-csh", "application/x-shellscript", "application/x-bat", "application/x-msi",
    "application/x-ms-installer", "application/x-ms-shortcut", "application/vnd.microsoft.portable-executable",
    "application/java-archive", "application/x-java-archive", "application/vnd.android.package-archive",
    "application/x-apple-diskimage", "application/hta", "application/javascript", "text/javascript",
    "application/x-javascript", "application/x-powershell", "text/x-shellscript", "application/x-debian-package",
    "application/x-rpm",
})
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class UploadTicket(BaseModel):
    """Where and how to PUT the bytes, and the ref to send with the reply or note afterwards."""

    model_config = ConfigDict(defer_build=True)

    upload_url: str = Field(description="signed; valid for 15 minutes, for exactly these bytes")
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str] = Field(description="send these headers with the PUT, unchanged")
    expires_at: datetime
    attachment: AttachmentRef


class DownloadLink(BaseModel):
    model_config = ConfigDict(defer_build=True)

    url: str = Field(description="signed; no Authorization header needed; valid for 5 minutes")
    expires_at: datetime
    filename: str
    content_type: str


# --- names and keys -------------------------------------------------------------------------------------
def key_filename(filename: str) -> str:
    """The filename as a key segment: ASCII letters, digits, '.', '_' and '-', at most 120 characters."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    safe = _KEY_CHARS.sub("_", ascii_name).lstrip("._-") or "file"
    if len(safe) > 120:
        stem, dot, extension = safe.rpartition(".")
        safe = (stem[: 119 - len(extension)] + dot + extension) if dot and len(extension) <= 16 else safe[:120]
    return safe


def attachment_key(case_id: str, sha256: str, filename: str) -> str:
    return f"cases/{case_id}/{sha256}/{key_filename(filename)}"


def check_file(filename: str, content_type: str, *, field: str = "") -> None:
    """Refuse names that are paths or carry control characters, and executables by name or by type."""
    prefix = f"{field}." if field else ""
    if _UNSAFE_NAME.search(filename) or filename.strip(". ") == "":
        raise RuleViolation("a filename cannot contain slashes or control characters", field=f"{prefix}filename")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in DENIED_EXTENSIONS:
        raise RuleViolation(f".{extension} files can run programs and are not accepted; zip them first",
                            field=f"{prefix}filename")
    if content_type.split(";", 1)[0].strip().lower() in DENIED_TYPES:
        raise RuleViolation(f"{content_type} files can run programs and are not accepted",
                            field=f"{prefix}content_type")


def _blobs(deps: Deps) -> BlobStore:
    if deps.blobs is None:
        raise RuntimeError("no blob store is configured")
    return deps.blobs


# --- commands -------------------------------------------------------------------------------------------
def request_upload(deps: Deps, request: Request, case_id: str, command: RequestUpload) -> UploadTicket:
    """Staff, or the case's own customer, may add files; the key sits under the case the reply will land on."""
    from .cases import load_target  # cases imports this module for check_attachments

    if request.principal.role is not Role.CUSTOMER:
        require_staff(request.principal, "uploading attachments")
    case = load_target(deps, request, case_id)
    check_file(command.filename, command.content_type)
    ref = AttachmentRef(key=attachment_key(case.id, command.sha256, command.filename), filename=command.filename,
                        content_type=command.content_type, size=command.size, sha256=command.sha256)
    signed = _blobs(deps).presign_put(ref.key, content_type=ref.content_type, size=ref.size, sha256=ref.sha256,
                                      expires_in=UPLOAD_URL_LIFETIME)
    return UploadTicket(upload_url=signed.url, headers=signed.headers, expires_at=signed.expires_at, attachment=ref)


def check_attachments(deps: Deps, case: Case, refs: list[AttachmentRef], *, field: str = "attachments") -> None:
    """Every ref must name a blob uploaded to this case (or a case merged into it) with its size and type."""
    if not refs:
        return
    blobs = _blobs(deps)
    owners = (case.id, *case.merged_from)
    seen: set[str] = set()
    for index, ref in enumerate(refs):
        where = f"{field}.{index}"
        if ref.sha256 in seen:
            raise RuleViolation(f"{ref.filename} is attached twice", field=where)
        seen.add(ref.sha256)
        check_file(ref.filename, ref.content_type, field=where)
        if ref.key not in {attachment_key(owner, ref.sha256, ref.filename) for owner in owners}:
            raise RuleViolation(f"{ref.filename} was not uploaded to case {case.display_number}; request an "
                                f"upload for this case first", field=where)
        stored = blobs.head(ref.key)
        if stored is None:
            raise RuleViolation(f"{ref.filename} has not been uploaded yet", field=where)
        if stored.size != ref.size or stored.content_type != ref.content_type:
            raise RuleViolation(f"{ref.filename} was uploaded as {stored.size} bytes of {stored.content_type}, "
                                f"not {ref.size} bytes of {ref.content_type}", field=where)


# --- queries --------------------------------------------------------------------------------------------
def _is_ours(ref: AttachmentRef, owners: list[str]) -> bool:
    """A ref this service could have accepted: under one of the cases, with a type a URL can carry."""
    try:
        check_content_type(ref.content_type)
    except ValueError:
        return False
    return ref.key in {attachment_key(owner, ref.sha256, ref.filename) for owner in owners}


def _find(deps: Deps, request: Request, case: Case, sha256: str) -> AttachmentRef | None:
    """The file among the interactions the caller may read, on this case and the cases merged into it."""
    owners = [case.id, *case.merged_from]
    customer = request.principal.role is Role.CUSTOMER
    cursor: str | None = None
    for _ in range(MAX_SCANNED_PAGES):
        page = deps.store.interactions_of(owners, limit=200, cursor=cursor)
        for interaction in page.items:
            if customer and interaction.visibility is not Visibility.PUBLIC:
                continue
            refs = [*interaction.attachments, *([interaction.raw_ref] if interaction.raw_ref else [])]
            for ref in refs:  # an email's raw message downloads like its attachments
                if ref.sha256 == sha256 and _is_ours(ref, owners):
                    return ref
        cursor = page.cursor
        if cursor is None:
            return None
    return None


def download_link(deps: Deps, request: Request, case_id: str, sha256: str) -> DownloadLink:
    case = check_case_access(request.principal, deps.store.get_case(case_id), case_id)
    ref = _find(deps, request, case, sha256)
    if ref is None:
        raise NotFound(f"attachment {sha256} does not exist on case {case_id}")
    signed = _blobs(deps).presign_get(ref.key, filename=ref.filename, content_type=ref.content_type,
                                      expires_in=DOWNLOAD_URL_LIFETIME)
    return DownloadLink(url=signed.url, expires_at=signed.expires_at, filename=ref.filename,
                        content_type=ref.content_type)
