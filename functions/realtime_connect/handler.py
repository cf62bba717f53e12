"""The live-updates WebSocket API: $connect verifies the Cognito token sent as `?token=` (browsers cannot set
headers on a WebSocket, so no authorizer runs) and registers staff connections, a non-2xx answer refusing
the connection; $disconnect forgets it; $default answers {"action": "ping"} with {"type": "pong"}.
"""

from caseline import coldstart  # first: no garbage collection while the modules below load

# isort: split
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_websocket_event import APIGatewayWebSocketEvent
from caseline import bootstrap, tracing
from caseline.adapters.aws.cognito_tokens import CognitoTokens
from caseline.api.context import principal_from_claims
from caseline.domain.errors import Forbidden, Unauthenticated
from caseline.services import realtime
from caseline.settings import Settings

logger = Logger(service="realtime-connect")
tracer = Tracer(service="realtime-connect", patch_modules=tracing.PATCHED)
_wiring: tuple[CognitoTokens, realtime.LiveUpdates] | None = None


def wiring() -> tuple[CognitoTokens, realtime.LiveUpdates]:
    global _wiring
    if _wiring is None:
        settings = Settings.from_env()
        _wiring = (CognitoTokens(settings.cognito_issuer or "", settings.cognito_client_id or ""),
                   bootstrap.live_updates(settings))
    return _wiring


def connect(event: APIGatewayWebSocketEvent) -> dict:
    tokens, live = wiring()
    try:
        principal = principal_from_claims(tokens.verify(event.query_string_parameters.get("token", "")))
        realtime.open_connection(live, principal, event.request_context.connection_id,
                                 now=event.request_context.request_time_epoch // 1000)
    except (Unauthenticated, Forbidden) as exc:
        logger.info("connection refused", reason=exc.detail)
        return {"statusCode": 403 if isinstance(exc, Forbidden) else 401}
    return {"statusCode": 200}


def disconnect(event: APIGatewayWebSocketEvent) -> dict:
    realtime.close_connection(wiring()[1], event.request_context.connection_id)
    return {"statusCode": 200}


def message(event: APIGatewayWebSocketEvent) -> dict:
    realtime.answer(wiring()[1], event.request_context.connection_id, event.decoded_body)
    return {"statusCode": 200}


ROUTES = {"$connect": connect, "$disconnect": disconnect, "$default": message}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayWebSocketEvent)
def lambda_handler(event: APIGatewayWebSocketEvent, context: object) -> dict:
    return ROUTES.get(event.request_context.route_key, message)(event)


coldstart.done()  # the module is set up: collection resumes (caseline/coldstart.py)
