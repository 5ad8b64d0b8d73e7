"""The archive in an S3 bucket.

boto3 is imported, and the client built, on first use rather than at import: ``import boto3`` plus
the first client costs ~300 ms locally (about three times that in a Lambda Init), and paths that
never touch the archive should not pay it. Server-side encryption is the bucket's default, so no
per-object SSE parameter is sent.
"""

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from ..errors import ArchiveKeyMissing, ArchiveUnavailable

# botocore's defaults (60 s connect, 60 s read, 3 attempts) can hold a webhook for minutes. S3 answers
# small PUTs in tens of ms and AWS advises retrying one after 2 s, so: fail a dead connection in
# 0.5 s, give a slow request 2 s, and retry once, since a second attempt absorbs a reset or a 503
# SlowDown. Worst case about 6 s with the backoff. A failed post-call write answers 5xx and ElevenLabs
# retries later, which beats waiting here. Keep-alive stops idle NATs from dropping warm connections.
_CONNECT_TIMEOUT_SECONDS = 0.5
_READ_TIMEOUT_SECONDS = 2.0
# Counts the first request too. botocore's "max_attempts" counts only retries: max_attempts=2 sends 3.
_TOTAL_ATTEMPTS = 2

_DUPLICATE = "PreconditionFailed"  # 412: If-None-Match failed, the key already exists
_CONFLICT = "ConditionalRequestConflict"  # 409: a concurrent write to the key; AWS says retry
_MISSING = {"NoSuchKey", "404", "NotFound"}
# A GetObject with If-None-Match on the current ETag: botocore reports the 304 as an error.
_NOT_MODIFIED = {"304", "NotModified"}
_DENIED = {"AccessDenied", "403", "Forbidden"}
# A 409 means another write to the key was in flight: one more try settles it (AWS: "retry the upload").
_ATTEMPTS_ON_CONFLICT = 2

_Result = TypeVar("_Result")


class _S3Failure(ArchiveUnavailable):
    """``ArchiveUnavailable`` that remembers S3's error code, so callers here can tell 412 from 503."""

    def __init__(self, detail: str, code: str | None) -> None:
        super().__init__(detail)
        self.s3_error_code = code


class S3Archive:
    """``Archive`` over one bucket. Pass ``client`` to reuse or stub one; otherwise it is built lazily."""

    def __init__(
        self,
        bucket: str,
        client: Any | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.bucket = bucket
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region
        self._client_lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The boto3 S3 client, built once on first use (clients are thread-safe, building is not)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._build_client()
        return self._client

    def prepare(self) -> None:
        """Import boto3 and build the client without a request: for an init phase, so that the first
        caller does not pay for it (about 300 ms here, more in a Lambda Init)."""
        self.client  # noqa: B018 - the property builds and caches the client

    def put_new(self, key: str, body: bytes, content_type: str) -> bool:
        for _attempt in range(_ATTEMPTS_ON_CONFLICT):
            try:
                self._put_object(key, body, content_type, IfNoneMatch="*")
                return True
            except _S3Failure as failure:
                if failure.s3_error_code == _DUPLICATE:
                    # Also what a retried write whose first attempt landed sees: the body is stored
                    # either way, and the ObjectCreated notification fires once for it.
                    return False
                if failure.s3_error_code != _CONFLICT:
                    raise
        # Two conflicts in a row: another writer is racing us. It is a duplicate only if a body landed.
        if self.exists(key):
            return False
        raise ArchiveUnavailable("S3 PutObject failed: ConditionalRequestConflict persisted")

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._put_object(key, body, content_type)

    def get(self, key: str) -> bytes:
        try:
            response = self._call("GetObject", "get_object", Key=key)
            body: bytes = _guarded("GetObject", response["Body"].read)
            return body
        except _S3Failure as failure:
            if self._is_missing(key, failure):
                raise ArchiveKeyMissing(key) from None
            raise

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        try:
            response = self._call("GetObject", "get_object", Key=key)
            body: bytes = _guarded("GetObject", response["Body"].read)
            return body, str(response["ETag"])
        except _S3Failure as failure:
            if self._is_missing(key, failure):
                raise ArchiveKeyMissing(key) from None
            raise

    def get_if_changed(self, key: str, version: str | None) -> tuple[bytes, str] | None:
        if version is None:
            return self.get_versioned(key)
        try:
            response = self._call("GetObject", "get_object", Key=key, IfNoneMatch=version)
            body: bytes = _guarded("GetObject", response["Body"].read)
            return body, str(response["ETag"])
        except _S3Failure as failure:
            if failure.s3_error_code in _NOT_MODIFIED:
                return None
            if self._is_missing(key, failure):
                raise ArchiveKeyMissing(key) from None
            raise

    def put_if_version(self, key: str, body: bytes, content_type: str, version: str | None) -> bool:
        condition = {"IfMatch": version} if version is not None else {"IfNoneMatch": "*"}
        try:
            self._put_object(key, body, content_type, **condition)
            return True
        except _S3Failure as failure:
            # 412: changed since read (or created, for If-None-Match); 409: a concurrent write; 404:
            # deleted since read. Each means "read again"; anything else is a real failure.
            if failure.s3_error_code in {_DUPLICATE, _CONFLICT, *_MISSING}:
                return False
            raise

    def exists(self, key: str) -> bool:
        try:
            self._call("HeadObject", "head_object", Key=key)
            return True
        except _S3Failure as failure:
            if self._is_missing(key, failure):
                return False
            raise

    def archived_at(self, key: str) -> datetime:
        """When ``key`` was written (S3's LastModified); ArchiveKeyMissing if absent."""
        try:
            modified: datetime = self._call("HeadObject", "head_object", Key=key)["LastModified"]
            return modified
        except _S3Failure as failure:
            if self._is_missing(key, failure):
                raise ArchiveKeyMissing(key) from None
            raise

    def _is_missing(self, key: str, failure: "_S3Failure") -> bool:
        """Whether ``failure`` on reading ``key`` means the key does not exist.

        S3 answers a missing key 404 only when the caller may list the bucket; the roles here may list
        only their own prefixes (an ``s3:prefix`` condition), which S3 may not apply to a GetObject,
        so a missing key can come back 403. A 403 is then settled by listing exactly that key, which
        the prefix condition does allow: absent from the listing means missing; anything else (a
        real denial, a failed listing) stays an error, so a missing permission never reads as absent.
        """
        if failure.s3_error_code in _MISSING:
            return True
        if failure.s3_error_code not in _DENIED:
            return False
        try:
            listing = self._call("ListObjectsV2", "list_objects_v2", Prefix=key, MaxKeys=1)
        except _S3Failure:
            return False
        return not any(item.get("Key") == key for item in listing.get("Contents", []))

    def keys(self, prefix: str) -> Iterator[str]:
        # S3 lists keys in UTF-8 byte order, which is already the sorted order the port promises.
        paginator = _guarded("ListObjectsV2", lambda: self.client.get_paginator("list_objects_v2"))
        pages = iter(paginator.paginate(Bucket=self.bucket, Prefix=prefix))
        while True:
            page = _guarded("ListObjectsV2", lambda: next(pages, None))
            if page is None:
                return
            for entry in page.get("Contents", []):
                yield entry["Key"]

    def delete(self, key: str) -> None:
        # S3 answers 204 for a missing key too, as the port wants.
        self._call("DeleteObject", "delete_object", Key=key)

    def _put_object(self, key: str, body: bytes, content_type: str, **conditions: str) -> None:
        self._call("PutObject", "put_object", Key=key, Body=body, ContentType=content_type, **conditions)

    def _call(self, operation: str, method: str, **parameters: Any) -> Any:
        return _guarded(operation, lambda: getattr(self.client, method)(Bucket=self.bucket, **parameters))

    def _build_client(self) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=_CONNECT_TIMEOUT_SECONDS,
            read_timeout=_READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "total_max_attempts": _TOTAL_ATTEMPTS},
            tcp_keepalive=True,
        )
        # A session of our own: boto3's default session is not safe to build clients from in threads.
        return boto3.session.Session().client(
            "s3", endpoint_url=self._endpoint_url, region_name=self._region, config=config
        )


def _guarded(operation: str, call: Callable[[], _Result]) -> _Result:
    """Run one S3 call; any botocore failure becomes ``ArchiveUnavailable`` with the original as cause.

    The detail names the operation and S3's error code only. botocore's own messages can carry the
    request URL, whose key holds a caller's phone number, so they stay in the chained cause.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        raise _S3Failure(f"S3 {operation} failed: {code} (HTTP {status})", code) from error
    except BotoCoreError as error:
        raise _S3Failure(f"S3 {operation} failed: {type(error).__name__}", None) from error
