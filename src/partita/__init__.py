"""partita: asset-centric data pipelines that rebuild only what is missing or stale.

Importing partita stays light: pandas, pyarrow and duckdb load only when data is touched.
"""

from .definitions.asset import AssetDep as AssetDep
from .definitions.asset import asset as asset
from .definitions.context import AssetContext as AssetContext
from .definitions.partitions import DailyPartitions as DailyPartitions
from .definitions.partitions import HourlyPartitions as HourlyPartitions
from .definitions.partitions import MonthlyPartitions as MonthlyPartitions
from .definitions.partitions import StaticPartitions as StaticPartitions
from .definitions.partitions import WeeklyPartitions as WeeklyPartitions
from .definitions.policies import FreshnessPolicy as FreshnessPolicy
from .definitions.policies import Retry as Retry
from .definitions.storage import DuckDB as DuckDB
from .definitions.storage import Parquet as Parquet
from .errors import PermanentError as PermanentError
from .project import load_project as load_project

__version__ = "0.1.0"

__all__ = [
    "AssetContext",
    "AssetDep",
    "DailyPartitions",
    "DuckDB",
    "FreshnessPolicy",
    "HourlyPartitions",
    "MonthlyPartitions",
    "Parquet",
    "PermanentError",
    "Retry",
    "StaticPartitions",
    "WeeklyPartitions",
    "__version__",
    "asset",
    "load_project",
]
