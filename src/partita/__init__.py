"""partita: asset-centric data pipelines that rebuild only what is missing or stale.

Importing partita is light: each public name is imported on first use (PEP 562), and
pandas, pyarrow and duckdb load only when data is touched.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "asset": "partita.definitions.asset",
    "AssetDep": "partita.definitions.asset",
    "AssetContext": "partita.definitions.context",
    "resource": "partita.definitions.resources",
    "HourlyPartitions": "partita.definitions.partitions",
    "DailyPartitions": "partita.definitions.partitions",
    "WeeklyPartitions": "partita.definitions.partitions",
    "MonthlyPartitions": "partita.definitions.partitions",
    "StaticPartitions": "partita.definitions.partitions",
    "PartitionMapping": "partita.definitions.mappings",
    "Identity": "partita.definitions.mappings",
    "TimeWindow": "partita.definitions.mappings",
    "AllPartitions": "partita.definitions.mappings",
    "LastPartition": "partita.definitions.mappings",
    "StaticKeys": "partita.definitions.mappings",
    "FreshnessPolicy": "partita.definitions.policies",
    "Retry": "partita.definitions.policies",
    "Parquet": "partita.definitions.storage",
    "DuckDB": "partita.definitions.storage",
    "PermanentError": "partita.errors",
    "load_project": "partita.project",
    "Session": "partita.app.session",
    "open_session": "partita.app.session",
    "PlanRequest": "partita.app.requests",
    "RunRequest": "partita.app.requests",
    "RunListener": "partita.execution.events",
    "MinutePartitions": "partita.definitions.partitions",
    "CronPartitions": "partita.definitions.partitions",
    "MultiPartitions": "partita.definitions.partitions",
    "PerDimension": "partita.definitions.mappings",
    "DynamicPartitions": "partita.definitions.partitions",
    "on_cron": "partita.definitions.automation",
    "eager": "partita.definitions.automation",
    "on_missing": "partita.definitions.automation",
    "AutomationCondition": "partita.definitions.automation",
    "observable_source": "partita.definitions.sources",
    "sensor": "partita.definitions.sensors",
    "FileSensor": "partita.definitions.sensors",
    "SensorRequest": "partita.definitions.sensors",
    "SensorResult": "partita.definitions.sensors",
    "SensorContext": "partita.definitions.sensors",
}

__all__ = [*sorted(_PUBLIC), "__version__"]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'partita' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from .app.requests import PlanRequest as PlanRequest
    from .app.requests import RunRequest as RunRequest
    from .app.session import Session as Session
    from .app.session import open_session as open_session
    from .definitions.asset import AssetDep as AssetDep
    from .definitions.asset import asset as asset
    from .definitions.automation import AutomationCondition as AutomationCondition
    from .definitions.automation import eager as eager
    from .definitions.automation import on_cron as on_cron
    from .definitions.automation import on_missing as on_missing
    from .definitions.context import AssetContext as AssetContext
    from .definitions.mappings import AllPartitions as AllPartitions
    from .definitions.mappings import Identity as Identity
    from .definitions.mappings import LastPartition as LastPartition
    from .definitions.mappings import PartitionMapping as PartitionMapping
    from .definitions.mappings import PerDimension as PerDimension
    from .definitions.mappings import StaticKeys as StaticKeys
    from .definitions.mappings import TimeWindow as TimeWindow
    from .definitions.partitions import CronPartitions as CronPartitions
    from .definitions.partitions import DailyPartitions as DailyPartitions
    from .definitions.partitions import DynamicPartitions as DynamicPartitions
    from .definitions.partitions import HourlyPartitions as HourlyPartitions
    from .definitions.partitions import MinutePartitions as MinutePartitions
    from .definitions.partitions import MonthlyPartitions as MonthlyPartitions
    from .definitions.partitions import MultiPartitions as MultiPartitions
    from .definitions.partitions import StaticPartitions as StaticPartitions
    from .definitions.partitions import WeeklyPartitions as WeeklyPartitions
    from .definitions.policies import FreshnessPolicy as FreshnessPolicy
    from .definitions.policies import Retry as Retry
    from .definitions.resources import resource as resource
    from .definitions.sensors import FileSensor as FileSensor
    from .definitions.sensors import SensorContext as SensorContext
    from .definitions.sensors import SensorRequest as SensorRequest
    from .definitions.sensors import SensorResult as SensorResult
    from .definitions.sensors import sensor as sensor
    from .definitions.sources import observable_source as observable_source
    from .definitions.storage import DuckDB as DuckDB
    from .definitions.storage import Parquet as Parquet
    from .errors import PermanentError as PermanentError
    from .execution.events import RunListener as RunListener
    from .project import load_project as load_project
