"""The BlobStore port's contract (`caseline.ports.blobs`), run against the file system and S3 on moto.

Presigned URLs cannot be fetched from moto in mock mode, so for S3 the tests read the URL's shape, lifetime
and signed parameters; the embedded URLs are fetched over HTTP in tests/runtime/test_blob_routes.py and in
the dev-server flow.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from caseline.adapters.aws.s3_blobs import S3BlobStore, checksum_header
from caseline.adapters.embedded.blob_files import META_ATTRIBUTE, FileBlobStore, SignatureRejected
from caseline.ports.blobs import BlobNotFound, BlobStore, BlobTooLarge
from caseline.ports.clock import FixedClock

REGION = "eu-west-1"
BUCKET = "caseline-attachments-test"
LIMIT = 64 * 1024
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
KEY = "cases/01J00000000000000000000000/" + "a" * 64 + "/screenshot.png"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def s3_client(request: pytest.FixtureRequest, boto_session: Any) -> Any:
    from botocore.config import Config

    request.getfixturevalue("aws")
    client = boto_session.client("s3", region_name=REGION,
                                 config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


@pytest.fixture(params=["files", pytest.param("s3", marks=pytest.mark.aws)])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "files":
        yield FileBlobStore(tmp_path / "blobs", max_size=LIMIT, secret="contract-secret", clock=FixedClock(NOW))
        return
    yield S3BlobStore(BUCKET, max_size=LIMIT, region=REGION, client=request.getfixturevalue("s3_client"))


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


# --- put, head, get, delete ------------------------------------------------------------------------------
def test_put_then_head_and_get_round_trip_bytes_type_and_metadata(blobs: BlobStore) -> None:
    stored = blobs.put(KEY, PNG, content_type="image/png", metadata={"sha256": hashlib.sha256(PNG).hexdigest()})
    assert stored.size == len(PNG)
    head = blobs.head(KEY)
    assert head is not None
    assert (head.key, head.size, head.content_type) == (KEY, len(PNG), "image/png")
    assert head.metadata == {"sha256": hashlib.sha256(PNG).hexdigest()}
    got = blobs.get(KEY)
    assert got.data == PNG and got.info.content_type == "image/png" and got.info.size == len(PNG)


def test_put_again_replaces_the_whole_blob(blobs: BlobStore) -> None:
    blobs.put(KEY, PNG, content_type="image/png")
    blobs.put(KEY, b"short", content_type="text/plain")
    assert blobs.get(KEY).data == b"short"
    head = blobs.head(KEY)
    assert head is not None and head.size == 5 and head.content_type == "text/plain"


def test_an_empty_blob_is_a_blob(blobs: BlobStore) -> None:
    blobs.put("logs/empty.txt", b"", content_type="text/plain")
    head = blobs.head("logs/empty.txt")
    assert head is not None and head.size == 0
    assert blobs.get("logs/empty.txt").data == b""


def test_a_missing_key_has_no_head_and_cannot_be_read(blobs: BlobStore) -> None:
    assert blobs.head("cases/nothing/here.txt") is None
    with pytest.raises(BlobNotFound):
        blobs.get("cases/nothing/here.txt")


def test_delete_removes_and_deleting_twice_is_fine(blobs: BlobStore) -> None:
    blobs.put(KEY, PNG, content_type="image/png")
    blobs.delete(KEY)
    blobs.delete(KEY)
    assert blobs.head(KEY) is None


def test_keys_differing_in_one_segment_are_separate(blobs: BlobStore) -> None:
    blobs.put("cases/A/x.txt", b"A", content_type="text/plain")
    blobs.put("cases/B/x.txt", b"B", content_type="text/plain")
    assert blobs.get("cases/A/x.txt").data == b"A" and blobs.get("cases/B/x.txt").data == b"B"


# --- what the port refuses -------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [
    "", "/etc/passwd", "../outside.txt", "cases/../../outside.txt", "cases/./x.txt", "cases//x.txt",
    "cases/x.txt/", "cases\\x.txt", "cases/.hidden", "cases/x y.txt", "cases/x\n", "cases/\x00x",
    "cases/" + "a" * 300, "a/" * 600,
])
def test_unsafe_keys_are_refused_by_every_operation(blobs: BlobStore, key: str) -> None:
    for operation in (
        lambda: blobs.put(key, b"x", content_type="text/plain"),
        lambda: blobs.head(key),
        lambda: blobs.get(key),
        lambda: blobs.delete(key),
        lambda: blobs.presign_get(key, filename="x.txt", content_type="text/plain", expires_in=timedelta(minutes=5)),
    ):
        with pytest.raises(ValueError):
            operation()


def test_blobs_over_the_size_limit_are_refused_and_not_stored(blobs: BlobStore) -> None:
    with pytest.raises(BlobTooLarge):
        blobs.put(KEY, b"x" * (LIMIT + 1), content_type="application/octet-stream")
    assert blobs.head(KEY) is None
    blobs.put(KEY, b"x" * LIMIT, content_type="application/octet-stream")  # the limit itself is allowed
    assert blobs.get(KEY).info.size == LIMIT


def test_upload_urls_over_the_size_limit_are_refused(blobs: BlobStore) -> None:
    with pytest.raises(BlobTooLarge):
        blobs.presign_put(KEY, content_type="image/png", size=LIMIT + 1, sha256="a" * 64,
                          expires_in=timedelta(minutes=15))


@pytest.mark.parametrize("content_type", ["", "png", "image/PNG", "text/plain; charset=utf-8", "image/png\n"])
def test_content_types_must_be_plain_lower_case_type_slash_subtype(blobs: BlobStore, content_type: str) -> None:
    with pytest.raises(ValueError):
        blobs.put(KEY, b"x", content_type=content_type)


@pytest.mark.parametrize("lifetime", [timedelta(0), timedelta(hours=2)])
def test_signed_urls_live_between_a_second_and_an_hour(blobs: BlobStore, lifetime: timedelta) -> None:
    with pytest.raises(ValueError):
        blobs.presign_get(KEY, filename="a.png", content_type="image/png", expires_in=lifetime)


# --- signed URLs -----------------------------------------------------------------------------------------
def test_presigned_get_names_the_key_lifetime_type_and_filename(blobs: BlobStore) -> None:
    blobs.put(KEY, PNG, content_type="image/png")
    before = blobs.clock.now()
    signed = blobs.presign_get(KEY, filename="Bildschirmfoto ü.png", content_type="image/png",
                               expires_in=timedelta(minutes=5))
    assert signed.method == "GET" and signed.headers == {}
    assert signed.expires_at - before - timedelta(minutes=5) < timedelta(seconds=2)
    parts = urlsplit(signed.url)
    assert unquote(parts.path).endswith("/" + KEY)
    query = _query(signed.url)
    if isinstance(blobs, S3BlobStore):
        assert parts.scheme == "https" and parts.netloc == f"{BUCKET}.s3.{REGION}.amazonaws.com"
        assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-Expires"] == "300"
        assert len(query["X-Amz-Signature"]) == 64 and query["X-Amz-SignedHeaders"] == "host"
        assert query["response-content-type"] == "image/png"
        assert query["response-content-disposition"].startswith('inline; filename="Bildschirmfoto _.png"')
        assert "filename*=UTF-8''Bildschirmfoto%20%C3%BC.png" in query["response-content-disposition"]
    else:
        assert isinstance(blobs, FileBlobStore)
        assert parts.path == f"/blobs/{KEY}" and not parts.netloc
        assert int(query["expires"]) == int((before + timedelta(minutes=5)).timestamp())
        terms = blobs.verify_get(KEY, query)
        assert (terms.filename, terms.content_type) == ("Bildschirmfoto ü.png", "image/png")
        assert terms.content_disposition.startswith("inline;")


def test_presigned_put_signs_type_size_and_checksum(blobs: BlobStore) -> None:
    sha = hashlib.sha256(PNG).hexdigest()
    signed = blobs.presign_put(KEY, content_type="image/png", size=len(PNG), sha256=sha,
                               expires_in=timedelta(minutes=15))
    assert signed.method == "PUT" and signed.headers["Content-Type"] == "image/png"
    query = _query(signed.url)
    if isinstance(blobs, S3BlobStore):
        assert query["X-Amz-Expires"] == "900"
        assert query["X-Amz-SignedHeaders"].split(";") == [
            "content-length", "content-type", "host", "x-amz-checksum-sha256"]
        assert signed.headers["x-amz-checksum-sha256"] == checksum_header(sha)
    else:
        assert isinstance(blobs, FileBlobStore)
        terms = blobs.verify_put(KEY, query)
        assert (terms.size, terms.content_type, terms.sha256) == (len(PNG), "image/png", sha)


def test_downloads_are_served_inline_only_for_types_a_browser_shows_safely(blobs: BlobStore) -> None:
    for content_type, inline in [("image/png", True), ("text/plain", True), ("text/html", False),
                                 ("image/svg+xml", False), ("application/zip", False)]:
        signed = blobs.presign_get(KEY, filename="f", content_type=content_type, expires_in=timedelta(minutes=5))
        query = _query(signed.url)
        value = query.get("response-content-disposition") or query["filename"]
        if isinstance(blobs, FileBlobStore):
            value = blobs.verify_get(KEY, query).content_disposition
        assert value.startswith("inline;" if inline else "attachment;"), content_type


# --- adapter specifics -----------------------------------------------------------------------------------
@pytest.mark.aws
def test_s3_encrypts_with_the_configured_kms_key_and_signs_the_encryption_headers(s3_client: Any) -> None:
    store = S3BlobStore(BUCKET, max_size=LIMIT, region=REGION, client=s3_client, kms_key_id="alias/caseline-data")
    store.put(KEY, PNG, content_type="image/png")
    head = s3_client.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "alias/caseline-data"
    signed = store.presign_put(KEY, content_type="image/png", size=len(PNG), sha256="b" * 64,
                               expires_in=timedelta(minutes=15))
    assert signed.headers["x-amz-server-side-encryption"] == "aws:kms"
    assert signed.headers["x-amz-server-side-encryption-aws-kms-key-id"] == "alias/caseline-data"
    signed_headers = _query(signed.url)["X-Amz-SignedHeaders"].split(";")
    assert {"x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"} <= set(signed_headers)


def test_file_urls_are_refused_when_altered_expired_or_signed_elsewhere(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    store = FileBlobStore(tmp_path / "blobs", max_size=LIMIT, secret="one", clock=clock)
    signed = store.presign_get(KEY, filename="a.png", content_type="image/png", expires_in=timedelta(minutes=5))
    query = _query(signed.url)
    for altered in ({**query, "filename": "b.png"}, {**query, "type": "text/html"},
                    {**query, "expires": str(int(query["expires"]) + 3600)}, {**query, "extra": "1"},
                    {k: v for k, v in query.items() if k != "sig"}):
        with pytest.raises(SignatureRejected):
            store.verify_get(KEY, altered)
    with pytest.raises(SignatureRejected):
        store.verify_get(KEY.replace("screenshot", "other"), query)
    with pytest.raises(SignatureRejected):
        store.verify_put(KEY, query)  # a download URL is not an upload URL
    other = FileBlobStore(tmp_path / "blobs", max_size=LIMIT, secret="two", clock=clock)
    with pytest.raises(SignatureRejected):
        other.verify_get(KEY, query)
    clock.advance(minutes=5)
    store.verify_get(KEY, query)  # valid up to and including its expiry second
    clock.advance(seconds=1)
    with pytest.raises(SignatureRejected, match="expired"):
        store.verify_get(KEY, query)


def test_file_store_keeps_its_secret_in_the_data_dir_across_restarts(tmp_path: Path) -> None:
    first = FileBlobStore(tmp_path / "data" / "blobs", max_size=LIMIT, clock=FixedClock(NOW))
    signed = first.presign_get(KEY, filename="a.png", content_type="image/png", expires_in=timedelta(minutes=5))
    secret = tmp_path / "data" / "blob-secret"
    assert secret.exists() and secret.stat().st_mode & 0o777 == 0o600
    again = FileBlobStore(tmp_path / "data" / "blobs", max_size=LIMIT, clock=FixedClock(NOW))
    assert again.verify_get(KEY, _query(signed.url)).filename == "a.png"


def _files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_file_store_writes_one_whole_file_per_blob_named_by_the_key_digest(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs", max_size=LIMIT, secret="s")
    for size in (10, 1000, LIMIT):
        store.put(KEY, b"z" * size, content_type="application/octet-stream", metadata={"sha256": "d" * 64})
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    assert _files_under(tmp_path / "blobs") == [f"files/{digest[:2]}/{digest}"]  # no temporary file left
    assert store.data_path(KEY) == tmp_path / "blobs" / "files" / digest[:2] / digest
    assert json.loads(os.getxattr(store.data_path(KEY), META_ATTRIBUTE)) == {
        "key": KEY, "size": LIMIT, "content_type": "application/octet-stream", "metadata": {"sha256": "d" * 64}}
    assert store.get(KEY).data == b"z" * LIMIT


def test_file_store_keeps_metadata_files_where_the_file_system_has_no_attributes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    earlier = FileBlobStore(tmp_path / "blobs", max_size=LIMIT, secret="s")
    earlier.put("cases/a/first.txt", b"1", content_type="text/plain")  # with its attribute

    def refuse(*args: object) -> None:
        raise OSError(errno.ENOTSUP, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", refuse)
    monkeypatch.setattr(os, "getxattr", refuse)
    store = FileBlobStore(tmp_path / "blobs", max_size=LIMIT, secret="s")
    store.put(KEY, PNG, content_type="image/png", metadata={"sha256": "e" * 64})
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    assert f"files/{digest[:2]}/{digest}.json" in _files_under(tmp_path / "blobs")
    head = store.head(KEY)
    assert head is not None and (head.content_type, head.metadata) == ("image/png", {"sha256": "e" * 64})
    assert store.get(KEY).data == PNG
    store.delete(KEY)
    assert store.head(KEY) is None and _files_under(tmp_path / "blobs") == [
        "files/" + "/".join(_digest_path("cases/a/first.txt"))]
    monkeypatch.undo()
    assert earlier.get("cases/a/first.txt").data == b"1"


def _digest_path(key: str) -> tuple[str, str]:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return digest[:2], digest


def test_a_data_file_without_its_metadata_is_not_a_blob(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs", max_size=LIMIT, secret="s")
    store.put(KEY, PNG, content_type="image/png")
    copied = tmp_path / "copied"
    copied.mkdir()
    path = store.data_path(KEY)
    (copied / "bytes").write_bytes(path.read_bytes())  # a copy that kept the bytes only (cp -r)
    os.replace(copied / "bytes", path)
    assert store.head(KEY) is None
    with pytest.raises(BlobNotFound):
        store.get(KEY)


def test_a_key_and_a_key_under_it_are_separate_blobs(blobs: BlobStore) -> None:
    blobs.put("cases/a", b"1", content_type="text/plain")  # S3 has no folders: both keys can exist
    blobs.put("cases/a/b.txt", b"2", content_type="text/plain")
    assert (blobs.get("cases/a").data, blobs.get("cases/a/b.txt").data) == (b"1", b"2")
    blobs.delete("cases/a")
    assert blobs.head("cases/a") is None and blobs.get("cases/a/b.txt").data == b"2"


def test_file_store_paths_never_follow_the_key_so_a_symlink_in_the_data_dir_cannot_redirect_a_key(
        tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs", max_size=LIMIT, secret="s")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "blobs" / "cases").mkdir(parents=True)
    (tmp_path / "blobs" / "cases" / "x").symlink_to(tmp_path / "elsewhere")
    store.put("cases/x/y.txt", b"x", content_type="text/plain")
    assert list((tmp_path / "elsewhere").iterdir()) == []
    assert store.get("cases/x/y.txt").data == b"x"


def test_file_store_moves_blobs_from_the_nested_layout_once_and_keeps_serving_them(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    other = "cases/01J00000000000000000000001/" + "b" * 64 + "/notes.txt"
    for key, data, content_type in ((KEY, PNG, "image/png"), (other, b"notes", "text/plain")):
        (root / "objects" / key).parent.mkdir(parents=True, exist_ok=True)
        (root / "objects" / key).write_bytes(data)
        (root / "meta" / f"{key}.json").parent.mkdir(parents=True, exist_ok=True)
        (root / "meta" / f"{key}.json").write_text(json.dumps(
            {"size": len(data), "content_type": content_type, "metadata": {"sha256": "c" * 64}}))
    (root / "objects" / "cases" / "half-written").write_bytes(b"no metadata: never a blob")

    store = FileBlobStore(root, max_size=LIMIT, secret="s")
    head = store.head(KEY)
    assert head is not None and (head.size, head.content_type, head.metadata) == (len(PNG), "image/png",
                                                                                 {"sha256": "c" * 64})
    assert store.get(KEY).data == PNG and store.get(other).data == b"notes"
    assert not (root / "meta").exists()
    assert _files_under(root / "objects") == ["cases/half-written"]  # left for an admin to look at
    again = FileBlobStore(root, max_size=LIMIT, secret="s")  # a second start finds nothing to move
    assert again.get(other).data == b"notes"
