"""schemas/ is generated from the models. Regenerate with `make schemas` when this fails."""

from __future__ import annotations

from pathlib import Path

from caseline.api.openapi import expected_files

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schemas_match_the_models() -> None:
    expected = expected_files()
    committed = {p.relative_to(SCHEMAS).as_posix(): p.read_text(encoding="utf-8")
                 for p in SCHEMAS.rglob("*.json")}
    missing_or_stale = sorted(name for name, text in expected.items() if committed.get(name) != text)
    extra = sorted(set(committed) - set(expected))
    assert not missing_or_stale and not extra, (
        f"stale: {missing_or_stale}, not generated any more: {extra} — run `make schemas`"
    )


def test_openapi_is_3_1_with_bearer_auth_on_private_routes() -> None:
    import json

    document = json.loads(expected_files()["openapi.json"])
    assert document["openapi"].startswith("3.1")
    assert document["paths"]["/health"]["get"].get("security") is None
    assert document["paths"]["/cases"]["post"]["security"] == [{"bearer": []}]
