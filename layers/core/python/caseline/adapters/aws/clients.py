"""AWS clients made from one botocore session, without importing boto3.

`boto3.client(...)` does the same on boto3's default session, but importing boto3 imports s3transfer
(`boto3.compat`), about 50 ms that every function's first request paid for clients that never transfer
files. The clients are botocore's own, as boto3's are; only boto3's S3 transfer helpers (`upload_file`...),
which we do not use, are missing.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_session: Any = None


def client(service: str, **kwargs: Any) -> Any:
    """A low-level client, configured as boto3.client would be (region, credentials and config from the
    environment); botocore sessions are not thread-safe, so clients are made one at a time."""
    global _session
    with _lock:
        if _session is None:
            import botocore.session

            _session = botocore.session.get_session()
        return _session.create_client(service, **kwargs)
