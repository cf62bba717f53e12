"""/health: public; says whether this region can reach its table (Route 53 health checks call it)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from ...bootstrap import platform
from ...services.health import check_health
from ..models import Health

router = APIGatewayRouter()


@router.get("/health", tags=["Health"], summary="Liveness and table reachability (no auth)",
            responses={200: {"description": "Healthy", "content": {"application/json": {"model": Health}}},
                       503: {"description": "A dependency is unreachable",
                             "content": {"application/json": {"model": Health}}}})
def health() -> Response[Health]:
    report = check_health(platform())
    return Response(status_code=200 if report.ok else 503, content_type="application/json",
                    body=Health(status="ok" if report.ok else "unavailable", checks=report.checks),
                    headers={"Cache-Control": "no-store"})
