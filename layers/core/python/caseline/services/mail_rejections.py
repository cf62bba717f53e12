"""What admins read about inbound mail that became nothing: the rejections, newest first.

Apart from `inbound_mail` (the ingestion path) so that the API function listing them does not import the
mail parser and classifier it never runs.
"""

from __future__ import annotations

from ..adapters.mail_records import MailRecords
from ..adapters.store import Slice
from ..domain.auth import Role
from ..domain.mail import MailRejection
from .context import Deps, Request


def list_rejections(deps: Deps, request: Request, *, limit: int, cursor: str | None) -> Slice[MailRejection]:
    """Messages that became no case and no interaction, newest first (admins)."""
    from .authz import require_role

    require_role(request.principal, Role.ADMIN, "listing rejected mail")
    return MailRecords(deps.store).rejections(limit=limit, cursor=cursor)
