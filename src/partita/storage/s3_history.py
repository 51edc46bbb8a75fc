"""Replaced versions of partitions on object storage, kept so a bad run can be undone.

The history prefix, `PREFIX/.history/<asset>/<hive_key>=<partition>/<data version>.parquet`,
lies outside `PREFIX/<asset>/`, so hive readers of the asset never see it. A version is
kept by a server-side copy (CopyObject, conditional on the ETag the writer saw: no bytes
pass through partita) before the new object is put, and an S3 copy is durable once
answered. Kept objects are named by their content hash and checked against it whenever
they are read or restored.

Every object partita puts carries its data version in its metadata (`VERSION_METADATA`),
so keeping it needs no read; an object written before that is read and hashed once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from partita.errors import StorageError
from partita.storage.base import RetainedVersion, describe_location
from partita.storage.encoding import data_version
from partita.storage.history import HISTORY_FOLDER, SUFFIX, is_version
from partita.storage.paths import decode_partition_value, encode_partition_value

VERSION_METADATA = "partita-data-version"
LOST_RACE = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")
MISSING = ("404", "NoSuchKey", "NotFound")

Fail = Callable[[str, "str | None", Exception], StorageError]


@dataclass(frozen=True)
class CurrentObject:
    """The published object of a partition: its ETag and data version (None: unknown,
    an object written before partita recorded versions in metadata)."""

    etag: str
    version: str | None


def error_code(error: Exception) -> str:
    """The S3 error code of a botocore ClientError ('' for anything else)."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return ""
    found = response.get("Error", {}).get("Code", "")
    status = str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return found if found not in ("", None) else status


def lost_race(asset: str, partition: str | None, location: str) -> StorageError:
    """The error of a writer whose conditional request found another writer's object."""
    return StorageError(
        f"Did not publish {describe_location(asset, partition)} to {location}: another"
        " writer published it while this one was writing, so its data stands and this"
        " write was dropped. Run again if the partition should be rebuilt."
    )


class ObjectHistory:
    """The kept versions of one asset on object storage (see module)."""

    def __init__(
        self, client: Callable[[], Any], bucket: str, root: str, asset: str, hive_key: str | None
    ) -> None:
        self._client = client  # the storage's lazily created boto3 client
        self.bucket = bucket
        self.root = root  # PREFIX/.history/<asset>, built by `history_root`
        self.asset = asset
        self.hive_key = hive_key

    def folder(self, partition: str | None) -> str:
        if partition is None or self.hive_key is None:
            return self.root
        return f"{self.root}/{self.hive_key}={encode_partition_value(partition)}"

    def key(self, partition: str | None, version: str) -> str:
        return f"{self.folder(partition)}/{version}{SUFFIX}"

    def keep(
        self, partition: str | None, source: str, current: CurrentObject, version: str, fail: Fail
    ) -> None:
        """Copy the object `source` (as `current` describes it, of data version `version`)
        into the history prefix; a StorageError (lost race) when it changed meanwhile."""
        target = self.key(partition, version)
        try:
            copied = self._client().copy_object(
                Bucket=self.bucket,
                Key=target,
                CopySource={"Bucket": self.bucket, "Key": source},
                CopySourceIfMatch=current.etag,
            )
        except Exception as error:
            if error_code(error) in LOST_RACE:
                raise lost_race(self.asset, partition, f"{self.bucket}/{source}") from error
            raise fail("keep the replaced version of", partition, error) from error
        if copied.get("CopyObjectResult", {}).get("ETag") == current.etag:
            return
        # Not every server honours CopySourceIfMatch, and a copy of a multipart object has
        # another ETag: check the copy's content before trusting its name.
        data = self._get(partition, version, fail)
        if data is None or data_version(data) != version:
            self.forget(partition, version, fail)
            raise lost_race(self.asset, partition, f"{self.bucket}/{source}")

    def fetch(self, partition: str | None, version: str, fail: Fail) -> bytes | None:
        """The kept bytes of `version` (None: not kept), checked against the name."""
        data = self._get(partition, version, fail)
        if data is not None and data_version(data) != version:
            raise StorageError(
                f"The kept version {version} of {describe_location(self.asset, partition)}"
                f" in s3://{self.bucket}/{self.key(partition, version)} is damaged: its"
                " content no longer matches its hash. It cannot be read or restored; delete"
                " the object (partita prune removes what is no longer needed)."
            )
        return data

    def versions(self, fail: Fail) -> list[RetainedVersion]:
        """Every kept version, by partition and version."""
        found = []
        try:
            pages = self._client().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=f"{self.root}/"):
                for item in page.get("Contents", []):
                    parsed = self._parse(item["Key"].removeprefix(f"{self.root}/"))
                    if parsed is not None:
                        found.append(RetainedVersion(parsed[0], parsed[1], int(item["Size"])))
        except Exception as error:
            raise fail("list the kept versions of", None, error) from error
        return sorted(found, key=lambda v: (v.partition or "", v.data_version))

    def discard(self, partition: str | None, version: str, fail: Fail) -> int:
        """Delete one kept version; return the bytes freed (0 when it was not kept)."""
        key = self.key(partition, version)
        try:
            size = int(self._client().head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except Exception as error:
            if error_code(error) in MISSING:
                return 0
            raise fail("look up a kept version of", partition, error) from error
        self.forget(partition, version, fail)
        return size

    def forget(self, partition: str | None, version: str, fail: Fail) -> None:
        """Delete the kept object of `version`, if any (one request, no look-up)."""
        try:
            self._client().delete_object(Bucket=self.bucket, Key=self.key(partition, version))
        except Exception as error:
            if error_code(error) not in MISSING:
                raise fail("delete a kept version of", partition, error) from error

    def _get(self, partition: str | None, version: str, fail: Fail) -> bytes | None:
        try:
            found = self._client().get_object(Bucket=self.bucket, Key=self.key(partition, version))
            return found["Body"].read()
        except Exception as error:
            if error_code(error) in MISSING:
                return None
            raise fail("read a kept version of", partition, error) from error

    def _parse(self, relative: str) -> tuple[str | None, str] | None:
        """(partition, version) of a key below the root; None for anything else."""
        folder, _, name = relative.rpartition("/")
        version = name.removesuffix(SUFFIX)
        if not name.endswith(SUFFIX) or not is_version(version):
            return None
        if self.hive_key is None:
            return (None, version) if folder == "" else None
        prefix = f"{self.hive_key}="
        if "/" in folder or not folder.startswith(prefix):
            return None
        try:
            partition = decode_partition_value(folder.removeprefix(prefix))
        except UnicodeDecodeError:
            return None
        canonical = encode_partition_value(partition) == folder.removeprefix(prefix)
        return (partition, version) if canonical else None


def history_root(prefix_key: Callable[..., str], asset: str) -> str:
    """`PREFIX/.history/<asset>` given the warehouse's key builder."""
    return prefix_key(HISTORY_FOLDER, asset)
