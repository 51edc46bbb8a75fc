"""Hive-partitioned Parquet objects on S3 (or an S3-compatible server), one object per
partition: `<prefix>/<asset>/<key>=<partition>/part-0.parquet` (one folder level per
dimension of a multi-dimensional asset, `date=.../region=.../part-0.parquet`), the layout
of the local Parquet storage, so DuckDB and pyarrow read it with hive partitioning.

Publishing is one conditional PUT of the whole object:
- Readers see the old or the new object, never part of one (an S3 PUT replaces an object
  atomically); a write that fails or is killed publishes nothing and leaves nothing.
- Two writers never both believe they published a partition: a write reads the object's
  ETag first and puts with `If-Match` that ETag (or `If-None-Match: *` when there was no
  object). A writer that lost the race gets 412 and fails with a StorageError, so the
  run records the unit as failed and the winner's data stands.
- The replaced object is kept first (`partita.storage.s3_history`): copied server-side
  under `<prefix>/.history/<asset>/`, where hive readers of the asset never look, so a
  run can be undone; a restore puts the kept bytes back by the same conditional PUT.
- `cleanup` aborts the asset's incomplete multipart uploads (partita never starts one;
  they are leftovers of crashed uploads by other writers or tools).

Settings come from the standard AWS environment variables and files, including
`AWS_ENDPOINT_URL` for S3-compatible servers. Needs boto3 (the extra `s3`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from partita.errors import InvalidDataError, StorageError
from partita.faults import fault_point
from partita.storage.base import RetainedVersion, WriteResult, describe_location
from partita.storage.canonical import canonical_table, check_unique_names
from partita.storage.encoding import data_version, encode_parquet
from partita.storage.object_location import ObjectWarehouse
from partita.storage.paths import (
    check_hive_names,
    check_no_hive_column,
    hive_columns,
    hive_folder,
    partition_of_folder,
    storage_hive_key,
)
from partita.storage.s3_history import (
    LOST_RACE,
    MISSING,
    VERSION_METADATA,
    CurrentObject,
    ObjectHistory,
    error_code,
    history_root,
    lost_race,
)
from partita.storage.schemas import unify_schemas

if TYPE_CHECKING:
    from partita.definitions.storage import Parquet

FILE_NAME = "part-0.parquet"


def open_declared(
    declaration: Parquet, warehouse: ObjectWarehouse, asset: str, hive_key: str | None
) -> S3ParquetStorage:
    """The registry's entry point for a warehouse on object storage."""
    return S3ParquetStorage(
        warehouse, asset, storage_hive_key(declaration.partition_column, hive_key)
    )


class S3ParquetStorage:
    """An asset stored as Parquet objects under `s3://bucket/prefix/<asset>/` (see module)."""

    reads_back_exactly = True
    single_process = False
    keep_history = True
    merges = False

    def __init__(self, warehouse: ObjectWarehouse, asset: str, hive_key: str | None) -> None:
        check_hive_names(asset, hive_key)
        self.warehouse = warehouse
        self.asset = asset
        self.hive_key = hive_key
        self.root = warehouse.key(asset)
        self._client: Any = None
        self.history = ObjectHistory(
            lambda: self.client,
            warehouse.bucket,
            history_root(warehouse.key, asset),
            asset,
            hive_key,
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                import boto3
            except ImportError as error:
                raise StorageError(
                    f"The warehouse {self.warehouse} is on object storage, which needs boto3:"
                    " install partita with the extra 's3' (pip install 'partita[s3]')."
                ) from error
            self._client = boto3.client("s3")
        return self._client

    def location(self, partition: str | None = None) -> str:
        key = self.root if partition is None else self._key(partition)
        return f"{self.warehouse.scheme}://{self.warehouse.bucket}/{key}"

    def open(self, run_id: str, *, shared: bool = False) -> None:
        """Nothing to keep between writes: each write is one object."""

    def close(self) -> None:
        """Nothing was kept."""

    def canonical(self, table: pa.Table, partition: str | None = None) -> pa.Table:
        where = describe_location(self.asset, partition)
        check_unique_names(table.column_names, where, self.location(), ignore_case=False)
        return canonical_table(table, where, self.location())

    def write(
        self,
        partition: str | None,
        table: pa.Table,
        evolve: bool = False,
        before_publish: Callable[[], None] | None = None,
    ) -> WriteResult:
        """Replace the partition's object with `table` by one conditional PUT (see the
        module), keeping the replaced object first; `before_publish` runs just before."""
        where = describe_location(self.asset, partition)
        check_no_hive_column(table.column_names, self.hive_key, where, self.location())
        key = self._key(partition)
        current = self._current(key, partition)
        encoded = encode_parquet(self.canonical(table, partition))
        version = data_version(encoded)
        self._publish(partition, key, encoded, version, current, before_publish)
        return WriteResult(rows=table.num_rows, bytes=len(encoded), data_version=version)

    def read(self, partitions: list[str] | None) -> pa.Table:
        """Read the whole asset (partitions in key order) or exactly `partitions`, in order."""
        if self.hive_key is None:
            if partitions is not None:
                raise StorageError(
                    f"Asset {self.asset!r} is not partitioned, but partitions {partitions!r} "
                    f"were requested from it. Read it as a whole."
                )
            return self._read_object(None)
        if partitions is None:
            partitions = self._stored_partitions()
            if not partitions:
                raise StorageError(
                    f"Asset {self.asset!r} has no data under {self.location()!r}. "
                    f"Materialize it first."
                )
        if not partitions:
            return pa.table({})
        tables = [self._read_object(partition) for partition in partitions]
        try:
            return pa.concat_tables(tables, promote_options="default")
        except (pa.ArrowException, ValueError) as error:
            raise StorageError(
                f"The partitions of asset {self.asset!r} under {self.location()!r} have "
                f"incompatible schemas: {error}. Re-materialize the asset with --force so "
                f"every partition has the current schema."
            ) from error

    def exists(self, partition: str | None) -> bool:
        return self._current(self._key(partition), partition) is not None

    def published_schema(self, excluding: str | None = None) -> pa.Schema | None:
        """The unified schema of the published partitions other than `excluding`."""
        if self.hive_key is None:
            return None
        schemas = []
        for partition in self._stored_partitions():
            if partition != excluding:
                with pq.ParquetFile(pa.BufferReader(self._get(self._key(partition)))) as file:
                    schemas.append(file.schema_arrow.remove_metadata())
        return unify_schemas(schemas)

    def retained_versions(self) -> list[RetainedVersion]:
        return self.history.versions(self._error)

    def read_version(self, partition: str | None, data_version: str) -> pa.Table:
        """The kept (or current) object of `data_version`, read as `read` reads."""
        key = self._key(partition)
        encoded = self._version_bytes(partition, data_version, self._current(key, partition))
        return self._decode(partition, encoded)

    def restore(
        self,
        partition: str | None,
        data_version: str,
        before_publish: Callable[[], None] | None = None,
    ) -> WriteResult:
        """Put the kept bytes back by one conditional PUT (readers see the old or the
        restored object), keeping the replaced object first as `write` does."""
        key = self._key(partition)
        current = self._current(key, partition)
        encoded = self._version_bytes(partition, data_version, current)
        self._publish(partition, key, encoded, data_version, current, before_publish)
        with pq.ParquetFile(pa.BufferReader(encoded)) as file:
            rows = file.metadata.num_rows
        return WriteResult(rows=rows, bytes=len(encoded), data_version=data_version)

    def discard_version(self, partition: str | None, data_version: str) -> int:
        return self.history.discard(partition, data_version, self._error)

    def delete(
        self, partitions: Sequence[str | None], before_commit: Callable[[], None] | None = None
    ) -> None:
        """Delete the partitions' objects and their kept versions after `before_commit`."""
        keys = [self._key(partition) for partition in partitions]
        if before_commit is not None:
            before_commit()
        kept = self.retained_versions()
        for partition, key in zip(partitions, keys, strict=True):
            for version in kept:
                if version.partition == partition:
                    self.discard_version(partition, version.data_version)
            try:
                self.client.delete_object(Bucket=self.warehouse.bucket, Key=key)
            except Exception as error:
                if error_code(error) not in MISSING:
                    raise self._error("delete", partition, error) from error

    def cleanup(self) -> list[PurePosixPath]:  # type: ignore[override]
        """Abort the asset's incomplete multipart uploads; return their keys."""
        aborted = []
        bucket = self.warehouse.bucket
        try:
            pages = self.client.get_paginator("list_multipart_uploads")
            for root in (self.root, self.history.root):
                for page in pages.paginate(Bucket=bucket, Prefix=f"{root}/"):
                    for upload in page.get("Uploads", []):
                        self.client.abort_multipart_upload(
                            Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted.append(PurePosixPath(upload["Key"]))
        except Exception as error:
            raise self._error("clean up the leftover uploads of", None, error) from error
        return sorted(aborted)

    def _key(self, partition: str | None) -> str:
        if self.hive_key is None:
            if partition is not None:
                raise StorageError(
                    f"Asset {self.asset!r} is not partitioned, but partition {partition!r} "
                    f"was given. Declare partitions on the asset or pass no partition."
                )
            return f"{self.root}/{FILE_NAME}"
        if partition is None:
            raise StorageError(
                f"Asset {self.asset!r} is partitioned by {self.hive_key!r}, but no partition "
                f"was given. Pass the partition key."
            )
        folder = hive_folder(self.hive_key, partition, self.asset)
        return f"{self.root}/{folder}/{FILE_NAME}"

    def _current(self, key: str, partition: str | None) -> CurrentObject | None:
        """The published object at `key`, None when there is none."""
        try:
            found = self.client.head_object(Bucket=self.warehouse.bucket, Key=key)
        except Exception as error:
            if error_code(error) in MISSING:
                return None
            raise self._error("look up", partition, error) from error
        return CurrentObject(found["ETag"], found.get("Metadata", {}).get(VERSION_METADATA))

    def _current_version(self, key: str, partition: str | None, current: CurrentObject) -> str:
        """The data version of the published object: recorded, or hashed once when it
        was published before partita recorded it."""
        if current.version is not None:
            return current.version
        return data_version(self._get(key, partition))

    def _publish(
        self,
        partition: str | None,
        key: str,
        encoded: bytes,
        version: str,
        current: CurrentObject | None,
        before_publish: Callable[[], None] | None,
    ) -> None:
        """Keep `current` (when history is on and it differs), then put `encoded` on the
        condition that `current` is still the published object."""
        if self.keep_history and current is not None:
            replaced = self._current_version(key, partition, current)
            if replaced != version:
                self.history.keep(partition, key, current, replaced, self._error)
        fault_point("s3-kept")
        if before_publish is not None:
            before_publish()
        condition = {"IfMatch": current.etag} if current is not None else {"IfNoneMatch": "*"}
        try:
            self.client.put_object(
                Bucket=self.warehouse.bucket,
                Key=key,
                Body=encoded,
                Metadata={VERSION_METADATA: version},
                **condition,
            )
        except Exception as error:
            if error_code(error) in LOST_RACE:
                raise lost_race(self.asset, partition, self.location(partition)) from error
            raise self._error("write", partition, error) from error
        fault_point("s3-published")
        self.history.forget(partition, version, self._error)  # current now, so not kept

    def _version_bytes(
        self, partition: str | None, version: str, current: CurrentObject | None
    ) -> bytes:
        """The bytes of `version` of the partition: kept, or the published object's."""
        kept = self.history.fetch(partition, version, self._error)
        if kept is not None:
            return kept
        key = self._key(partition)
        if current is not None and self._current_version(key, partition, current) == version:
            encoded = self._get(key, partition)
            if data_version(encoded) == version:
                return encoded
        raise StorageError(
            f"Version {version} of {describe_location(self.asset, partition)} is not kept"
            f" under s3://{self.warehouse.bucket}/{self.history.folder(partition)}/: it was"
            f" pruned, or written before partita kept history. Pick a retained version"
            f" (partita history {self.asset}) or rebuild it with partita materialize --force."
        )

    def _get(self, key: str, partition: str | None = None) -> bytes:
        try:
            found = self.client.get_object(Bucket=self.warehouse.bucket, Key=key)
            return found["Body"].read()
        except Exception as error:
            if error_code(error) in MISSING:
                raise StorageError(
                    f"No data for {describe_location(self.asset, partition)}:"
                    f" {self.location(partition)!r} does not exist. Materialize it first."
                ) from error
            raise self._error("read", partition, error) from error

    def _stored_partitions(self) -> list[str]:
        assert self.hive_key is not None
        prefix = f"{self.root}/{hive_columns(self.hive_key)[0]}="
        partitions = []
        try:
            pages = self.client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.warehouse.bucket, Prefix=prefix):
                for found in page.get("Contents", []):
                    relative = found["Key"].removeprefix(f"{self.root}/")
                    folder, _, name = relative.rpartition("/")
                    partition = partition_of_folder(self.hive_key, folder)
                    if name == FILE_NAME and partition is not None:
                        partitions.append(partition)
        except Exception as error:
            raise self._error("list the partitions of", None, error) from error
        return sorted(partitions)

    def _read_object(self, partition: str | None) -> pa.Table:
        return self._decode(partition, self._get(self._key(partition), partition))

    def _decode(self, partition: str | None, data: bytes) -> pa.Table:
        location = describe_location(self.asset, partition)
        try:
            with pq.ParquetFile(pa.BufferReader(data)) as file:
                table = file.read()
        except (pa.ArrowException, OSError) as error:
            raise StorageError(
                f"Could not read {location} from {self.location(partition)!r}: {error}. The"
                " object is corrupt or unreadable; re-materialize it with --force."
            ) from error
        try:
            return canonical_table(table, location, self.location(partition))
        except InvalidDataError:
            return table

    def _error(self, action: str, partition: str | None, error: Exception) -> StorageError:
        where = describe_location(self.asset, partition)
        return StorageError(
            f"Could not {action} {where} at {self.location(partition)}: {error}. Check the"
            " bucket, the AWS credentials and region (AWS_* environment variables or"
            " ~/.aws), and AWS_ENDPOINT_URL for an S3-compatible server."
        )
