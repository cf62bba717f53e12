"""`/blobs/<key>` on the local gateway: what S3 does with presigned URLs in AWS.

GET streams a file whose URL the blob store signed, with the signed content type and filename. PUT takes
the bytes of a signed upload: it checks the signature and expiry, the Content-Type and Content-Length,
counts the bytes as they arrive (refusing the first byte too many) and checks the SHA-256 at the end.
Neither needs a bearer token: the signature is the permission, as in S3.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ..adapters.embedded.blob_files import FileBlobStore, SignatureRejected, UploadRejected
from ..api.problems import PROBLEM_BASE, PROBLEM_JSON
from ..ports.blobs import BlobStore, BlobTooLarge

# A file served from our own origin must never run as a page: no sniffing, and a sandbox if opened.
_SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"}


def _problem(status: int, slug: str, title: str, detail: str) -> Response:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM_JSON)


def blob_routes(store: BlobStore | None) -> list[Route]:
    """The routes for a file-system store; none for any other (S3 serves its own URLs)."""
    if not isinstance(store, FileBlobStore):
        return []

    async def download(request: Request) -> Response:
        key = request.path_params["key"]
        try:
            terms = store.verify_get(key, dict(request.query_params))
        except SignatureRejected as exc:
            return _problem(403, "signature-rejected", "Forbidden", str(exc))
        if store.head(key) is None:
            return _problem(404, "not-found", "Not Found", "no file under this key")
        headers = {**_SAFE_HEADERS, "Content-Disposition": terms.content_disposition,
                   "Cache-Control": f"private, max-age={store.seconds_left(terms)}"}
        return FileResponse(store.data_path(key), media_type=terms.content_type, headers=headers)

    async def upload(request: Request) -> Response:
        key = request.path_params["key"]
        try:
            terms = store.verify_put(key, dict(request.query_params))
        except (SignatureRejected, ValueError) as exc:
            return _problem(403, "signature-rejected", "Forbidden", str(exc))
        sent_type = request.headers.get("content-type", "")
        if sent_type != terms.content_type:
            return _problem(415, "content-type-mismatch", "Unsupported Media Type",
                            f"this URL takes Content-Type: {terms.content_type}, not {sent_type[:100] or 'none'}")
        declared = request.headers.get("content-length")
        if declared is not None and declared != str(terms.size):
            status, slug = (413, "payload-too-large") if declared.isdigit() and int(declared) > terms.size else (
                400, "size-mismatch")
            return _problem(status, slug, "Content Too Large" if status == 413 else "Bad Request",
                            f"this URL takes exactly {terms.size} bytes; Content-Length says {declared[:20]}")
        receiving = store.receive(terms)
        try:
            async for chunk in request.stream():
                receiving.write(chunk)
            info = await run_in_threadpool(receiving.finish)
        except BlobTooLarge as exc:
            return _problem(413, "payload-too-large", "Content Too Large", str(exc))
        except UploadRejected as exc:
            return _problem(400, "upload-rejected", "Bad Request", str(exc))
        finally:
            receiving.abort()
        return Response(status_code=200, headers={"ETag": f'"{info.metadata["sha256"]}"'})

    async def dispatch(request: Request) -> Response:
        if request.method in ("GET", "HEAD"):
            return await download(request)
        if request.method == "PUT":
            return await upload(request)
        response = _problem(405, "method-not-allowed", "Method Not Allowed", "use one of: GET, HEAD, PUT")
        response.headers["Allow"] = "GET, HEAD, PUT"
        return response

    methods = ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"]
    return [Route(f"{store.url_prefix}/{{key:path}}", dispatch, methods=methods)]
