"""Swagger UI for the local gateway, from the assets Powertools ships (no CDN: works offline)."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

import aws_lambda_powertools.event_handler as event_handler

ASSETS = Path(event_handler.__file__).parent / "openapi" / "swagger_ui"


@cache
def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def swagger_page(spec_url: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Caseline API</title>
<style>{_asset("swagger-ui.min.css")}</style></head>
<body><div id="swagger-ui"></div>
<script>{_asset("swagger-ui-bundle.min.js")}</script>
<script>
window.ui = SwaggerUIBundle({{url: "{html.escape(spec_url)}", dom_id: "#swagger-ui", persistAuthorization: true}});
</script></body></html>"""
