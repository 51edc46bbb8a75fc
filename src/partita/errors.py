"""The one exception tree of partita: each error knows its exit code and formats itself.

Exit codes: 0 ok, 1 a unit failed or something is overdue, 2 usage or definition error.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def unit_label(asset: str, partition: str | None) -> str:
    """`flights 2013-01-05` (or `airlines` for an unpartitioned asset), for reasons."""
    return asset if partition is None else f"{asset} {partition}"


def describe_unit(asset: str, partition: str | None) -> str:
    """`asset 'flights' partition 2013-01-05`, for error messages."""
    return f"asset '{asset}'" + ("" if partition is None else f" partition {partition}")


class PartitaError(Exception):
    """Base of every error partita reports to a person."""

    exit_code: int = EXIT_USAGE

    def format(self) -> str:
        return str(self)


class DefinitionError(PartitaError):
    """An asset definition is invalid; found at load time, before anything runs."""


class DefinitionErrors(DefinitionError):
    """Several definition problems, reported all at once."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        super().__init__("\n\n".join(str(error) for error in errors))


class SelectionError(PartitaError):
    """An asset selection names something that does not exist."""


class PartitionError(PartitaError):
    """A partition key or range is malformed or out of bounds."""


class UsageError(PartitaError):
    """A command or API call was given arguments that do not fit together."""


class ProjectError(PartitaError):
    """The project folder or its configuration cannot be used."""


class StorageError(PartitaError):
    """Data could not be read from or written to the warehouse."""

    exit_code = EXIT_FAILED


class CatalogError(PartitaError):
    """The catalog database cannot be used."""


class CatalogFullError(CatalogError):
    """The disk holding the catalog is full: the run failed, this is no usage error."""

    exit_code = EXIT_FAILED


class MaterializationError(PartitaError):
    """A run stopped on an error after it started (the catalog or the warehouse failed
    under it). The first error is the message; `report` holds what had finished (a
    `RunReport`), and the run is recorded as failed when the catalog allows."""

    exit_code = EXIT_FAILED

    def __init__(self, run_id: str, cause: PartitaError, report: object) -> None:
        self.run_id = run_id
        self.cause = cause
        self.report = report
        super().__init__(f"run {run_id} stopped: {cause.format()}")


class PermanentError(Exception):
    """Raise from an asset function to fail the unit without retrying it."""


class InvalidDataError(StorageError, PermanentError):
    """The data cannot be stored as it is (a reserved or missing column, duplicate merge
    keys, a column clashing with the hive key); retrying would fail the same way."""
