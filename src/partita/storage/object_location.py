"""Warehouses on object storage: `s3://bucket/prefix` (S3 and S3-compatible servers).

A light value (no client is imported): the configuration parses the URL into an
`ObjectWarehouse`, and the storage registry opens the object-storage Parquet backend for
it. Settings (credentials, region, `AWS_ENDPOINT_URL` for S3-compatible servers) come
from the standard AWS environment variables and files.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from partita.errors import ProjectError

SCHEMES = ("s3",)
LOCAL_SCHEME = "file"
GCS_SCHEMES = ("gs", "gcs")
GCS_S3_ENDPOINT = "https://storage.googleapis.com"  # Cloud Storage's S3-compatible XML API


@dataclass(frozen=True)
class ObjectWarehouse:
    """A bucket and a key prefix (no leading or trailing slash; may be empty)."""

    scheme: str
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, *parts: str) -> str:
        """The object key of `parts` under the prefix."""
        return "/".join(part for part in (self.prefix, *parts) if part)

    def __str__(self) -> str:
        return self.url


def is_object_url(text: str) -> bool:
    """Whether `text` is a URL that is not a local path (`s3://...`, or another scheme
    that `parse_object_url` refuses); `file://` URLs and plain paths are local."""
    if "://" not in text:
        return False  # a path (also C:\\... on Windows)
    scheme = urlsplit(text).scheme
    return bool(scheme) and scheme != LOCAL_SCHEME


def parse_object_url(text: str) -> ObjectWarehouse:
    """The warehouse of an `s3://bucket/prefix` URL; ProjectError when malformed."""
    parts = urlsplit(text)
    if parts.scheme in GCS_SCHEMES:
        raise ProjectError(_gcs_advice(text, parts.netloc, parts.path))
    if parts.scheme not in SCHEMES:
        raise ProjectError(
            f"the warehouse {text!r} uses {parts.scheme}://, which partita cannot write to:"
            " a warehouse is a local folder (a path or file:///path) or S3-compatible object"
            " storage (s3://BUCKET/PREFIX, with AWS_ENDPOINT_URL for servers other than AWS)."
        )
    if not parts.netloc or parts.query or parts.fragment:
        raise ProjectError(
            f"the warehouse {text!r} is not an object-storage URL: write s3://BUCKET/PREFIX."
        )
    prefix = parts.path.strip("/")
    if any(segment in ("", ".", "..") for segment in prefix.split("/")) and prefix:
        raise ProjectError(
            f"the warehouse {text!r} has an empty, '.' or '..' part in its prefix: write"
            " s3://BUCKET/PREFIX with plain folder names."
        )
    return ObjectWarehouse(parts.scheme, parts.netloc, prefix)


def _gcs_advice(text: str, bucket: str, path: str) -> str:
    s3_url = f"s3://{bucket}{path}".rstrip("/")
    return (
        f"the warehouse {text!r} is on Google Cloud Storage, which partita reaches through"
        f" its S3-compatible XML API: write warehouse = '{s3_url}' and set"
        f" AWS_ENDPOINT_URL={GCS_S3_ENDPOINT} with an HMAC key of a service account (Cloud"
        " Storage > Settings > Interoperability) as AWS_ACCESS_KEY_ID and"
        " AWS_SECRET_ACCESS_KEY. gs:// itself is not supported."
    )
