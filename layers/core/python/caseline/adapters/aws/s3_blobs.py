"""The blob store on S3: objects in the attachments bucket, SSE-KMS when a key id is configured.

Signed URLs are S3 presigned URLs (Signature Version 4, the only one S3 accepts for KMS-encrypted
objects). A presigned PUT signs the content type, the length, the SHA-256 checksum and the encryption
headers, so S3 itself refuses any other bytes than the ones the service agreed to.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from ...ports.blobs import INLINE_TYPES, Blob, BlobInfo, BlobStore, SignedRequest, disposition
from .clients import client as aws_client

_MISSING = {"404", "NoSuchKey", "NotFound"}


def s3_client(region: str | None = None) -> Any:
    """An S3 client that presigns with SigV4 on the regional virtual-host endpoint."""
    config = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
    return aws_client("s3", region_name=region, config=config)


def checksum_header(sha256_hex: str) -> str:
    """S3 wants the SHA-256 checksum base64-encoded, not hex."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode()


class S3BlobStore(BlobStore):
    def __init__(self, bucket: str, *, max_size: int, kms_key_id: str | None = None, region: str | None = None,
                 client: Any = None) -> None:
        # S3 checks a presigned URL's expiry against real time, so the store reports it on the system clock.
        super().__init__(max_size=max_size)
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self._region = region
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = s3_client(self._region)
        return self._client

    def _encryption(self) -> dict[str, str]:
        if not self.kms_key_id:
            return {}
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}

    def _encryption_headers(self) -> dict[str, str]:
        if not self.kms_key_id:
            return {}
        return {"x-amz-server-side-encryption": "aws:kms",
                "x-amz-server-side-encryption-aws-kms-key-id": self.kms_key_id}

    def _put(self, info: BlobInfo, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=info.key, Body=data, ContentType=info.content_type, Metadata=info.metadata,
            ChecksumSHA256=checksum_header(hashlib.sha256(data).hexdigest()), **self._encryption(),
        )

    def _head(self, key: str) -> BlobInfo | None:
        try:
            found = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return BlobInfo(key=key, size=int(found["ContentLength"]),
                        content_type=found.get("ContentType") or "application/octet-stream",
                        metadata=dict(found.get("Metadata") or {}))

    def _get(self, key: str) -> Blob | None:
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        data = found["Body"].read()
        info = BlobInfo(key=key, size=len(data), content_type=found.get("ContentType") or "application/octet-stream",
                        metadata=dict(found.get("Metadata") or {}))
        return Blob(info, data)

    def _delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def _presign_put(self, key: str, content_type: str, size: int, sha256: str, expires_at: datetime,
                     expires_in: timedelta) -> SignedRequest:
        checksum = checksum_header(sha256)
        params = {"Bucket": self.bucket, "Key": key, "ContentType": content_type, "ContentLength": size,
                  "ChecksumSHA256": checksum, **self._encryption()}
        url = self.client.generate_presigned_url("put_object", Params=params,
                                                 ExpiresIn=int(expires_in.total_seconds()))
        # Content-Length is signed too, but browsers set it themselves from the body.
        headers = {"Content-Type": content_type, "x-amz-checksum-sha256": checksum, **self._encryption_headers()}
        return SignedRequest(url=url, method="PUT", headers=headers, expires_at=expires_at)

    def _presign_get(self, key: str, filename: str, content_type: str, expires_at: datetime,
                     expires_in: timedelta) -> SignedRequest:
        params = {"Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
                  "ResponseContentDisposition": disposition(filename, inline=content_type in INLINE_TYPES)}
        url = self.client.generate_presigned_url("get_object", Params=params,
                                                 ExpiresIn=int(expires_in.total_seconds()))
        return SignedRequest(url=url, method="GET", headers={}, expires_at=expires_at)

