"""The resolvers our API functions serve, wired to the platform lazily (nothing is built at import)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import Router

from ..bootstrap import platform
from .resolver import CaselineResolver, build_resolver


def build_api(routers: list[Router]) -> CaselineResolver:
    return build_resolver(
        routers,
        max_body_bytes=lambda: platform().settings.max_body_bytes,
        idempotency_store=lambda: platform().idempotency(),
    )


def all_routers() -> list[Router]:
    """Every router: the OpenAPI document and the local gateway's Swagger UI cover the whole API."""
    from .routes import attachments, cases, customers, health, mail, routing, rules, sla, staff, workspace

    return [cases.router, workspace.router, attachments.router, customers.router, staff.router, rules.router,
            routing.router, mail.router, sla.router, health.router]
