"""Verifies Cognito user-pool JWTs where no API Gateway authorizer does it for us (the WebSocket $connect).

The signing keys come from the pool's JWKS (`<issuer>/.well-known/jwks.json`), fetched once and cached by
PyJWT's PyJWKClient. Cognito id tokens name the app client in `aud`; access tokens carry no `aud` and name
it in `client_id` instead, so the audience is checked by hand for each `token_use`.
"""

from __future__ import annotations

import threading
from typing import Any

import jwt

from ...domain.errors import Unauthenticated

ALGORITHMS = ["RS256"]


class CognitoTokens:
    def __init__(self, issuer: str, client_id: str, *, jwks_client: jwt.PyJWKClient | None = None) -> None:
        if not issuer or not client_id:
            raise ValueError("CASELINE_COGNITO_ISSUER and CASELINE_COGNITO_CLIENT_ID must be set")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._jwks = jwks_client
        self._lock = threading.Lock()

    @property
    def jwks(self) -> jwt.PyJWKClient:
        if self._jwks is None:
            with self._lock:
                if self._jwks is None:
                    self._jwks = jwt.PyJWKClient(f"{self.issuer}/.well-known/jwks.json", cache_keys=True)
        return self._jwks

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a valid id or access token of our app client; Unauthenticated otherwise.

        A JWKS that cannot be fetched is our outage, not the caller's fault: PyJWKClientConnectionError
        is left to propagate.
        """
        if not token:
            raise Unauthenticated("send the token as the `token` query parameter")
        try:
            signing_key = self.jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, signing_key.key, algorithms=ALGORITHMS, issuer=self.issuer,
                                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False})
        except jwt.PyJWKClientConnectionError:
            raise
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        match claims.get("token_use"):
            case "id":
                audience = claims.get("aud")
                clients = audience if isinstance(audience, list) else [audience]
            case "access":
                clients = [claims.get("client_id")]
            case other:
                raise Unauthenticated(f"token_use {other!r} is neither id nor access")
        if self.client_id not in clients:
            raise Unauthenticated("the token was issued to another app client")
        return claims
