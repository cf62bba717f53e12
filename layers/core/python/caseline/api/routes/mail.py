"""/mail/rejections: inbound mail that became no case and no interaction, and why (admins)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...bootstrap import deps
from ...domain.mail import MailRejection
from ...services import mail_rejections as service
from ..context import current_request
from ..http import Cursor, Limit, PageOf
from ..problems import responses

router = APIGatewayRouter()
TAGS = ["Mail"]


class MailRejectionPage(PageOf):
    items: list[MailRejection]


@router.get("/mail/rejections", tags=TAGS, summary="Rejected inbound mail, newest first (admins)",
            description="Loops, storms, over-size messages, auto-replies and bounces that name no case of ours, "
                        "and failed spam/virus verdicts. The raw message is kept under `raw_key` when it fitted.",
            responses=responses(MailRejectionPage, 400, 401, 403, 422))
def list_rejections(limit: Limit = 25, cursor: Cursor = None) -> MailRejectionPage:
    page = service.list_rejections(deps(), current_request(router), limit=limit, cursor=cursor)
    return MailRejectionPage(items=page.items, next_cursor=page.cursor)
