"""Deferral from Python, inline: what is deferred, what is not and why, and the run."""

from __future__ import annotations

from datetime import UTC, datetime

from partita import PlanRequest, load_project, open_session

PYPROJECT = """
[tool.partita]
warehouse = "warehouse"

[tool.partita.env.prod]
warehouse = "prod"

[tool.partita.env.dev]
warehouse = "dev"
"""

ASSETS = """
import pandas as pd
from partita import asset


@asset
def prices() -> pd.DataFrame:
    return pd.DataFrame({"price": [1.0, 2.0]})


@asset
def rates() -> pd.DataFrame:
    return pd.DataFrame({"rate": [RATE]})


@asset
def converted(prices: pd.DataFrame, rates: pd.DataFrame) -> pd.DataFrame:
    return prices.assign(converted=prices["price"] * rates["rate"].iloc[0])
"""

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def test_deferral_reads_unchanged_upstreams_from_the_other_environment(project) -> None:
    (project.root / "pyproject.toml").write_text(PYPROJECT)
    project.write("assets/a.py", ASSETS.replace("RATE", "2.0"))
    assert not load_project(project.root, env="prod").materialize(now=NOW).failed
    project.write("assets/a.py", ASSETS.replace("RATE", "3.0"))  # rates changed in code

    with open_session(project.root, env="dev") as session:
        deferral = session.deferral(PlanRequest(selection=("converted",), defer_to="prod"))
    assert deferral is not None
    assert deferral.assets == {"prices"}
    assert deferral.not_deferred == {
        "rates": "its code changed since environment 'prod' materialized it"
    }

    dev = load_project(project.root, env="dev")
    report = dev.materialize(["rates", "converted"], now=NOW, defer_to="prod")
    assert [(r.asset, r.status) for r in report.results] == [
        ("rates", "materialized"),
        ("converted", "materialized"),
    ]
    assert dev.read("converted")["converted"].tolist() == [3.0, 6.0]
    assert not (project.root / "dev" / "prices").exists()
