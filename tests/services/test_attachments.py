"""Attachments through the services, on both table adapters (SQLite + file blobs, DynamoDB + S3 on moto)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from caseline.adapters.aws.s3_blobs import S3BlobStore
from caseline.adapters.embedded.blob_files import FileBlobStore
from caseline.domain.common import Channel
from caseline.domain.errors import Forbidden, NotFound, RuleViolation
from caseline.domain.interaction import AttachmentRef
from caseline.services import attachments, cases, merges
from caseline.services.attachments import attachment_key, key_filename
from caseline.services.commands import AddNote, AddReply, CustomerRef, MergeCases, OpenCase, RequestUpload
from pydantic import ValidationError

from ..conftest import REGION, World

SCREENSHOT = b"\x89PNG\r\n\x1a\n" + b"pixels" * 500
LOG = b"2026-11-02T09:00:01Z ERROR sync failed: timeout after 30s\n" * 20


@pytest.fixture
def blobs(platform):
    store = platform.deps.blobs
    if isinstance(store, S3BlobStore):
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=store.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return store


def _open(platform, world: World):
    command = OpenCase(channel=Channel.EMAIL, subject="App crashes", text="It crashes on start.",
                       requester=CustomerRef(email="alice@example.com"))
    return cases.open_case(platform.deps, world.staff(world.agent), command)


def _upload_request(data: bytes, filename: str = "screenshot.png", content_type: str = "image/png"):
    return RequestUpload(filename=filename, content_type=content_type, size=len(data),
                         sha256=hashlib.sha256(data).hexdigest())


def _upload(platform, request, case_id: str, data: bytes, **names) -> AttachmentRef:
    """Ask for an upload, then do what the client does with the URL: put exactly these bytes."""
    ticket = attachments.request_upload(platform.deps, request, case_id, _upload_request(data, **names))
    ref = ticket.attachment
    platform.deps.blobs.put(ref.key, data, content_type=ref.content_type)
    return ref


def _signed_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# --- upload requests -------------------------------------------------------------------------------------
def test_an_upload_is_signed_for_a_key_under_the_case(platform, world: World, blobs) -> None:
    case = _open(platform, world)
    command = _upload_request(SCREENSHOT)
    ticket = attachments.request_upload(platform.deps, world.staff(world.agent), case.id, command)
    assert ticket.attachment == AttachmentRef(key=f"cases/{case.id}/{command.sha256}/screenshot.png",
                                              filename="screenshot.png", content_type="image/png",
                                              size=len(SCREENSHOT), sha256=command.sha256)
    assert ticket.method == "PUT" and ticket.headers["Content-Type"] == "image/png"
    assert ticket.expires_at - blobs.clock.now() == timedelta(minutes=15) or isinstance(blobs, S3BlobStore)
    query = _signed_query(ticket.upload_url)
    if isinstance(blobs, FileBlobStore):
        terms = blobs.verify_put(ticket.attachment.key, query)
        assert (terms.size, terms.sha256) == (len(SCREENSHOT), command.sha256)
    else:
        assert query["X-Amz-Expires"] == "900" and "x-amz-checksum-sha256" in query["X-Amz-SignedHeaders"]


def test_the_case_customer_may_upload_and_nobody_else_learns_the_case_exists(platform, world: World, blobs) -> None:
    case = _open(platform, world)
    ticket = attachments.request_upload(platform.deps, world.customer(world.alice_id), case.id,
                                        _upload_request(LOG, "sync.log", "text/plain"))
    assert ticket.attachment.key.startswith(f"cases/{case.id}/")
    with pytest.raises(NotFound, match="does not exist"):
        attachments.request_upload(platform.deps, world.customer(world.bob_id), case.id, _upload_request(LOG))
    with pytest.raises(NotFound):
        attachments.request_upload(platform.deps, world.staff(world.agent), "01J00000000000000000000000",
                                   _upload_request(LOG))


@pytest.mark.parametrize(("filename", "content_type", "field"), [
    ("setup.exe", "application/octet-stream", "filename"),
    ("INSTALL.MSI", "application/octet-stream", "filename"),
    ("fix.ps1", "text/plain", "filename"),
    ("report.pdf", "application/x-msdownload", "content_type"),
    ("notes.txt", "application/x-sh", "content_type"),
    ("../../etc/passwd", "text/plain", "filename"),
    ("dir\\file.txt", "text/plain", "filename"),
    ("bell\x07.txt", "text/plain", "filename"),
    ("..", "text/plain", "filename"),
])
def test_executables_and_path_like_names_are_refused_naming_the_field(
    platform, world: World, blobs, filename: str, content_type: str, field: str
) -> None:
    case = _open(platform, world)
    with pytest.raises(RuleViolation) as refused:
        attachments.request_upload(platform.deps, world.staff(world.agent), case.id,
                                   _upload_request(LOG, filename, content_type))
    assert refused.value.context["field"] == field


@pytest.mark.parametrize("fields", [
    {"size": 25 * 1024 * 1024 + 1}, {"size": 0}, {"sha256": "A" * 64}, {"content_type": "Image/PNG"},
    {"content_type": "text/plain; charset=utf-8"}, {"filename": ""}, {"filename": "x" * 256},
])
def test_upload_requests_are_validated_before_any_service_runs(fields: dict) -> None:
    body = {"filename": "a.png", "content_type": "image/png", "size": 10, "sha256": "a" * 64, **fields}
    with pytest.raises(ValidationError):
        RequestUpload(**body)


def test_key_filenames_are_safe_ascii_and_keep_the_extension() -> None:
    assert key_filename("Rechnung März 2026 (final).pdf") == "Rechnung_Marz_2026_final_.pdf"
    assert key_filename("東京.png") == "png"
    assert key_filename("...hidden") == "hidden"
    assert key_filename("☃") == "file"
    long = key_filename("a" * 300 + ".log")
    assert len(long) == 120 and long.endswith(".log")
    assert attachment_key("C1", "f" * 64, "a b.txt") == f"cases/C1/{'f' * 64}/a_b.txt"


# --- replies and notes -----------------------------------------------------------------------------------
def test_a_reply_carries_an_uploaded_file_and_the_case_shows_it(platform, world: World, blobs) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    ref = _upload(platform, agent, case.id, SCREENSHOT)
    reply = cases.add_reply(platform.deps, agent, case.id, AddReply(text="See the screenshot.", attachments=[ref]))
    assert reply.attachments == [ref]
    detail = cases.get_case(platform.deps, world.customer(world.alice_id), case.id, limit=50, cursor=None)
    assert detail.interactions.items[-1].attachments == [ref]


def test_a_reply_with_a_file_that_was_never_uploaded_is_refused(platform, world: World, blobs) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    ticket = attachments.request_upload(platform.deps, agent, case.id, _upload_request(SCREENSHOT))
    with pytest.raises(RuleViolation, match="has not been uploaded") as refused:
        cases.add_reply(platform.deps, agent, case.id, AddReply(text="See attached", attachments=[ticket.attachment]))
    assert refused.value.context["field"] == "attachments.0"
    assert cases.get_case(platform.deps, agent, case.id, limit=50, cursor=None).case.version == 1


def test_a_reply_must_declare_the_size_and_type_that_were_uploaded(platform, world: World, blobs) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    ref = _upload(platform, agent, case.id, SCREENSHOT)
    for wrong in (ref.model_copy(update={"size": ref.size + 1}),
                  ref.model_copy(update={"content_type": "image/jpeg"})):
        with pytest.raises(RuleViolation, match="was uploaded as") as refused:
            cases.add_reply(platform.deps, agent, case.id, AddReply(text="x", attachments=[ref, wrong][1:]))
        assert refused.value.context["field"] == "attachments.0"


def test_a_reply_cannot_borrow_a_file_of_another_case(platform, world: World, blobs) -> None:
    mine, theirs = _open(platform, world), _open(platform, world)
    agent = world.staff(world.agent)
    foreign = _upload(platform, agent, theirs.id, LOG, filename="sync.log", content_type="text/plain")
    forged = foreign.model_copy(update={"key": foreign.key.replace(theirs.id, mine.id)})
    for ref in (foreign, forged):
        with pytest.raises(RuleViolation) as refused:
            cases.add_reply(platform.deps, agent, mine.id, AddReply(text="x", attachments=[ref]))
        assert refused.value.context["field"] == "attachments.0"


def test_the_same_file_twice_and_files_on_new_cases_are_refused(platform, world: World, blobs) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    ref = _upload(platform, agent, case.id, LOG, filename="sync.log", content_type="text/plain")
    with pytest.raises(RuleViolation, match="attached twice") as refused:
        cases.add_reply(platform.deps, agent, case.id, AddReply(text="x", attachments=[ref, ref]))
    assert refused.value.context["field"] == "attachments.1"
    with pytest.raises(RuleViolation) as refused:
        cases.open_case(platform.deps, agent, OpenCase(channel=Channel.EMAIL, subject="s", text="t",
                                                       requester=CustomerRef(email="alice@example.com"),
                                                       attachments=[ref]))
    assert refused.value.context["field"] == "attachments"


def test_notes_carry_files_that_only_staff_can_download(platform, world: World, blobs) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    ref = _upload(platform, agent, case.id, LOG, filename="sync.log", content_type="text/plain")
    note = cases.add_note(platform.deps, agent, case.id, AddNote(text="Server log attached", attachments=[ref]))
    assert note.attachments == [ref]
    link = attachments.download_link(platform.deps, world.staff(world.supervisor), case.id, ref.sha256)
    assert (link.filename, link.content_type) == ("sync.log", "text/plain")
    with pytest.raises(NotFound, match="does not exist"):
        attachments.download_link(platform.deps, world.customer(world.alice_id), case.id, ref.sha256)


def test_customers_cannot_upload_through_notes(platform, world: World, blobs) -> None:
    case = _open(platform, world)
    with pytest.raises(Forbidden):
        cases.add_note(platform.deps, world.customer(world.alice_id), case.id, AddNote(text="hi"))


# --- downloads -------------------------------------------------------------------------------------------
def test_download_links_last_five_minutes_and_fetch_the_right_file(platform, world: World, blobs) -> None:
    case = _open(platform, world)
    customer = world.customer(world.alice_id)
    ref = _upload(platform, customer, case.id, SCREENSHOT, filename="Bildschirmfoto 1.png")
    cases.add_reply(platform.deps, customer, case.id, AddReply(text="Here it is", attachments=[ref]))
    link = attachments.download_link(platform.deps, customer, case.id, ref.sha256)
    assert (link.filename, link.content_type) == ("Bildschirmfoto 1.png", "image/png")
    query = _signed_query(link.url)
    if isinstance(blobs, FileBlobStore):
        assert link.expires_at == blobs.clock.now() + timedelta(minutes=5)
        terms = blobs.verify_get(ref.key, query)
        assert terms.filename == "Bildschirmfoto 1.png"
        assert blobs.data_path(urlsplit(link.url).path.removeprefix("/blobs/")).read_bytes() == SCREENSHOT
    else:
        assert query["X-Amz-Expires"] == "300" and urlsplit(link.url).path == "/" + ref.key
        assert blobs.get(ref.key).data == SCREENSHOT
    staff = attachments.download_link(platform.deps, world.staff(world.agent), case.id, ref.sha256)
    assert staff.filename == link.filename


def test_downloads_of_unknown_or_foreign_files_are_not_found(platform, world: World, blobs) -> None:
    case = _open(platform, world)
    agent = world.staff(world.agent)
    ref = _upload(platform, agent, case.id, SCREENSHOT)
    with pytest.raises(NotFound):  # uploaded but never attached to anything
        attachments.download_link(platform.deps, agent, case.id, ref.sha256)
    cases.add_reply(platform.deps, agent, case.id, AddReply(text="x", attachments=[ref]))
    with pytest.raises(NotFound, match="does not exist"):
        attachments.download_link(platform.deps, world.customer(world.bob_id), case.id, ref.sha256)
    other = _open(platform, world)
    with pytest.raises(NotFound):
        attachments.download_link(platform.deps, agent, other.id, ref.sha256)


def test_files_of_merged_cases_stay_readable_through_the_survivor(platform, world: World, blobs) -> None:
    survivor, source = _open(platform, world), _open(platform, world)
    agent, customer = world.staff(world.agent), world.customer(world.alice_id)
    ref = _upload(platform, customer, source.id, SCREENSHOT)
    cases.add_reply(platform.deps, customer, source.id, AddReply(text="screenshot", attachments=[ref]))
    merges.merge_cases(platform.deps, agent, survivor.id, MergeCases(source_ids=[source.id]))
    link = attachments.download_link(platform.deps, customer, survivor.id, ref.sha256)
    assert link.filename == "screenshot.png"
    # An upload asked for on the merged case lands under the survivor, where its replies now go.
    later = attachments.request_upload(platform.deps, customer, source.id, _upload_request(LOG, "a.log", "text/plain"))
    assert later.attachment.key.startswith(f"cases/{survivor.id}/")
    platform.deps.blobs.put(later.attachment.key, LOG, content_type="text/plain")
    reply = cases.add_reply(platform.deps, customer, source.id, AddReply(text="log", attachments=[later.attachment]))
    assert reply.case_id == survivor.id
    # A file uploaded to the source before the merge may still be sent with a reply after it.
    older = LOG + b"earlier run\n"
    early = _upload(platform, agent, survivor.id, older, filename="b.log", content_type="text/plain")
    moved = early.model_copy(update={"key": attachment_key(source.id, early.sha256, "b.log")})
    platform.deps.blobs.put(moved.key, older, content_type="text/plain")
    cases.add_note(platform.deps, agent, survivor.id, AddNote(text="older log", attachments=[moved]))
    assert attachments.download_link(platform.deps, agent, survivor.id, moved.sha256).filename == "b.log"
