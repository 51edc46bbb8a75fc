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
    return urlsplit(text).scheme in SCHEMES


def parse_object_url(text: str) -> ObjectWarehouse:
    """The warehouse of an `s3://bucket/prefix` URL; ProjectError when malformed."""
    parts = urlsplit(text)
    if parts.scheme not in SCHEMES or not parts.netloc or parts.query or parts.fragment:
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
