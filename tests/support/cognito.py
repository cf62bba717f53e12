"""A stand-in Cognito user pool for tests: a locally generated RSA key, its JWKS, and tokens it signs.

Tests patch only the JWKS download (PyJWKClient.fetch_data); signature, issuer, expiry and audience checks
run as they do against the real pool.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TESTPOOL"
CLIENT_ID = "spa-client-id"


class FakeUserPool:
    def __init__(self, kid: str = "test-key-1") -> None:
        self.kid = kid
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        self.jwks = {"keys": [{**jwk, "kid": kid, "alg": "RS256", "use": "sig"}]}

    def token(self, *, groups: list[str], caseline_id: str, token_use: str = "id", client_id: str = CLIENT_ID,
              issuer: str = ISSUER, lifetime: int = 3600, **extra: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"sub": f"sub-{caseline_id}", "iss": issuer, "iat": now, "exp": now + lifetime,
                                  "token_use": token_use, "cognito:groups": groups,
                                  "custom:caseline_id": caseline_id, **extra}
        if token_use == "id":
            claims["aud"] = client_id
        else:
            claims["client_id"] = client_id
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})
