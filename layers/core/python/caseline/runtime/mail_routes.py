"""`/mail/outbox` on the local gateway: what `caseline dev` would have sent, read from its maildir.

A page listing the messages newest first (time, recipients, subject, a link to the case in the agent app)
and `/mail/outbox/<key>` with one raw message as it left, envelope headers on top. `Accept:
application/json` gets the list as data. Only for the maildir sender; with an SMTP relay the mail has left.
Like the rest of the local gateway it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import html
import json
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..adapters.embedded.mail_maildir import MaildirMailSender, SentMail
from ..api.problems import PROBLEM_BASE, PROBLEM_JSON
from ..ports.mail import MailSender

LIMIT = 200
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_ROW = '<tr><td>{time}</td><td>{to}</td><td>{subject}</td><td>{case}</td><td><a href="{raw}">raw</a></td></tr>'
_HEADERS = {"X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


def _item(mail: SentMail) -> dict:
    return {"key": mail.key, "sent_at": mail.sent_at.isoformat(), "to": list(mail.recipients),
            "from": mail.sender, "subject": mail.subject, "message_id": mail.message_id, "case_id": mail.case_id,
            "case_url": f"/desk/cases/{mail.case_id}" if mail.case_id else None, "raw_url": f"/mail/outbox/{mail.key}"}


def _page(items: list[SentMail]) -> str:
    rows = "\n".join(
        _ROW.format(
            time=html.escape(m.sent_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
            to=html.escape(", ".join(m.recipients)),
            subject=html.escape(m.subject or "(no subject)"),
            case=f'<a href="/desk/cases/{html.escape(m.case_id)}">case</a>' if m.case_id else "",
            raw=html.escape(f"/mail/outbox/{m.key}"),
        )
        for m in items
    ) or '<tr><td colspan="5">Nothing sent yet.</td></tr>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sent mail · Caseline dev</title>
<style>body{{font:14px system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse;width:100%}}
th,td{{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}}</style></head>
<body><h1>Sent mail</h1>
<p>Replies <code>caseline dev</code> sent, newest first: they went to a maildir, not to the recipients.</p>
<table><thead><tr><th>Sent</th><th>To</th><th>Subject</th><th>Case</th><th>Message</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def _problem(status: int, slug: str, title: str, detail: str) -> Response:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM_JSON)


def mail_routes(sender: MailSender | None) -> list[Route]:
    """The outbox page for a maildir sender; nothing for any other."""
    if not isinstance(sender, MaildirMailSender):
        return []

    async def outbox(request: Request) -> Response:
        items = await run_in_threadpool(sender.sent, LIMIT)
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"items": [_item(m) for m in items]}, headers=_HEADERS)
        return HTMLResponse(_page(items), headers=_HEADERS)

    async def raw(request: Request) -> Response:
        key = request.path_params["key"]
        if not _KEY.fullmatch(key):
            return _problem(404, "not-found", "Not Found", "no sent message under this key")
        try:
            data = await run_in_threadpool(sender.raw, key)
        except KeyError:
            return _problem(404, "not-found", "Not Found", "no sent message under this key")
        return Response(data, media_type="text/plain; charset=utf-8", headers=_HEADERS)

    return [Route("/mail/outbox", outbox, methods=["GET"]), Route("/mail/outbox/{key}", raw, methods=["GET"])]
