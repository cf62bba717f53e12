"""What the functions' X-Ray tracer patches (docs/decisions/0113-tracer-patches-what-functions-call.md).

Powertools' `Tracer()` patches every library the X-Ray SDK supports and finds installed, importing each of
them at cold start (httpx, requests, sqlite3, ...). Our functions call out through the AWS SDK (botocore)
and, for the Cognito signing keys, urllib (httplib); the rules function also sends webhooks (httpx). Those
calls keep their subsegments; nothing else is imported for tracing.
"""

PATCHED = ("botocore", "httplib")
WITH_WEBHOOKS = (*PATCHED, "httpx")
