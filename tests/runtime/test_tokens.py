"""Local JWTs: verified once, then only their expiry is checked again; a bad token is never let through."""

from __future__ import annotations

import types

import jwt
import pytest
from caseline.domain.auth import Role
from caseline.runtime import tokens as tokens_module
from caseline.runtime.tokens import LocalTokens
from caseline.settings import Settings


@pytest.fixture
def tokens() -> LocalTokens:
    return LocalTokens(Settings(jwt_secret="s" * 48))


def _issue(tokens: LocalTokens, lifetime: int = 3600) -> str:
    return tokens.issue(subject="local|ada@caseline.dev", role=Role.AGENT, caseline_id="01AGENT", name="Ada",
                        email="ada@caseline.dev", lifetime=lifetime)


def test_a_verified_token_gives_the_same_claims_and_each_caller_its_own_copy(tokens: LocalTokens) -> None:
    token = _issue(tokens)
    first = tokens.verify(token)
    first["cognito:groups"] = ["admin"]  # a caller changing its copy
    again = tokens.verify(token)
    assert again["cognito:groups"] == ["agent"] and again["sub"] == "local|ada@caseline.dev"


def test_a_token_that_expires_after_it_was_verified_is_refused(tokens: LocalTokens, monkeypatch) -> None:
    token = _issue(tokens, lifetime=60)
    claims = tokens.verify(token)
    monkeypatch.setattr(tokens_module, "time", types.SimpleNamespace(time=lambda: claims["exp"]))
    with pytest.raises(jwt.ExpiredSignatureError):
        tokens.verify(token)


def test_a_tampered_or_foreign_token_is_refused_even_after_the_genuine_one_was_verified(tokens: LocalTokens) -> None:
    token = _issue(tokens)
    tokens.verify(token)
    header, _, signature = token.split(".")
    forged = LocalTokens(Settings(jwt_secret="f" * 48)).issue(
        subject="local|ada@caseline.dev", role=Role.ADMIN, caseline_id="01AGENT", name="Ada", email="ada@caseline.dev")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (f"{header}.{forged.split('.')[1]}.{signature}", forged, flipped):
        with pytest.raises(jwt.InvalidTokenError):
            tokens.verify(bad)
    with pytest.raises(jwt.InvalidTokenError):  # and a failure is not remembered as a success either
        tokens.verify(forged)
