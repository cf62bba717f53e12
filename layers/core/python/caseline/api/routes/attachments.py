"""/cases/{case_id}/attachments: signed upload URLs, and signed download URLs for attached files."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...bootstrap import deps
from ...domain.ids import ULID_PATTERN
from ...services import attachments as service
from ...services.attachments import DownloadLink, UploadTicket
from ...services.commands import RequestUpload
from ..context import current_request
from ..problems import responses

router = APIGatewayRouter()
TAGS = ["Attachments"]
CaseIdParam = Annotated[str, Path(pattern=ULID_PATTERN, description="the case's id (a ULID)")]
Sha256Param = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="the file's SHA-256, lower-case hex")]
COMMON = (400, 401, 403, 404)


@router.post("/cases/<case_id>/attachments/uploads", tags=TAGS, status_code=201,
             summary="Get a signed URL to PUT a file to, then send `attachment` with a reply or note",
             responses=responses(UploadTicket, *COMMON, 413, 422, status=201))
def request_upload(case_id: CaseIdParam, command: RequestUpload) -> Response[UploadTicket]:
    ticket = service.request_upload(deps(), current_request(router), case_id, command)
    return Response(status_code=201, content_type="application/json", body=ticket)


@router.get("/cases/<case_id>/attachments/<sha256>", tags=TAGS,
            summary="A signed URL (valid 5 minutes) that downloads an attached file",
            responses=responses(DownloadLink, *COMMON, 422))
def download_link(case_id: CaseIdParam, sha256: Sha256Param) -> DownloadLink:
    return service.download_link(deps(), current_request(router), case_id, sha256)
