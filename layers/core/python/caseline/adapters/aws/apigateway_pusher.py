"""The pusher on API Gateway WebSockets: PostToConnection on the management API of our WebSocket stage."""

from __future__ import annotations

import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ...ports.connections import Pusher, PushFailed
from .clients import client as aws_client


class ApiGatewayPusher(Pusher):
    """`endpoint_url` is the stage's callback URL: https://<api id>.execute-api.<region>.amazonaws.com/<stage>."""

    def __init__(self, endpoint_url: str, *, client: Any = None) -> None:
        if not endpoint_url:
            raise ValueError("the WebSocket callback endpoint is not configured (CASELINE_WEBSOCKET_ENDPOINT)")
        self.endpoint_url = endpoint_url
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = aws_client("apigatewaymanagementapi", endpoint_url=self.endpoint_url)
        return self._client

    def push(self, connection_id: str, payload: bytes) -> bool:
        try:
            self.client.post_to_connection(ConnectionId=connection_id, Data=payload)
        except self.client.exceptions.GoneException:
            return False
        except (ClientError, BotoCoreError) as exc:
            raise PushFailed(f"post to {connection_id} failed: {exc}") from exc
        return True

    def disconnect(self, connection_id: str) -> None:
        """Close a connection from the server side (API Gateway then sends $disconnect)."""
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except self.client.exceptions.GoneException:
            return
