"""Local JWTs: what Cognito issues in AWS, signed here for the seeded dev users (HS256, PyJWT)."""

from __future__ import annotations

import functools
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from ..domain.auth import Role
from ..settings import Settings

TOKEN_LIFETIME_SECONDS = 30 * 24 * 3600
VERIFIED_TOKENS_KEPT = 1024  # a browser sends the same token with every request; staff are a few hundred


class LocalTokens:
    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.secret = settings.jwt_secret or self._stored_secret(Path(settings.data_dir))
        # Checking a signature costs more than a typical API call's own work (PyJWT in pure Python). A token
        # whose signature and claims checked out once only needs its expiry checked again, as API Gateway
        # caches an authorizer's answer per token. Failures are never kept: a bad token is checked in full.
        self._verified = functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._decode)

    @staticmethod
    def _stored_secret(data_dir: Path) -> str:
        """Kept in the data directory, so tokens printed at one start still work after a restart."""
        path = data_dir / "jwt-secret"
        if path.exists():
            return path.read_text().strip()
        data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        path.write_text(secret)
        path.chmod(0o600)
        return secret

    def issue(self, *, subject: str, role: Role, caseline_id: str, name: str, email: str,
              lifetime: int = TOKEN_LIFETIME_SECONDS) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + lifetime,
            "cognito:groups": [role.value],
            "custom:caseline_id": caseline_id,
            "name": name,
            "email": email,
            "token_use": "id",
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def verify(self, token: str) -> dict[str, Any]:
        """Claims of a valid token; raises jwt.InvalidTokenError otherwise."""
        claims = self._verified(token)
        if claims["exp"] <= time.time():  # PyJWT's own rule, with no leeway
            raise jwt.ExpiredSignatureError("Signature has expired")
        return dict(claims)  # the caller's copy; the cached one stays as verified

    def _decode(self, token: str) -> dict[str, Any]:
        return jwt.decode(token, self.secret, algorithms=["HS256"], audience=self.audience, issuer=self.issuer,
                          options={"require": ["exp", "sub", "iss", "aud"]})
