"""Start-up: whole processes of the CLI and of definition loading, against Python itself."""

from __future__ import annotations

import statistics
import sys

from .common import REPO, partita_command, report, run_process, temporary_project

MANY_ASSETS = """
from partita import DailyPartitions, asset

DAYS = DailyPartitions(start="2024-01-01", end="2025-01-01")

{definitions}
"""


def generated_project(count: int) -> str:
    """`count` assets in layers of 50; each reads one asset of the layer above."""
    definitions = []
    for index in range(count):
        upstream = f"asset_{index - 50}" if index >= 50 else None
        parameters = upstream or ""
        definitions.append(
            f"@asset(partitions=DAYS)\ndef asset_{index}({parameters}):\n"
            f'    """Generated asset {index}."""\n    return None\n'
        )
    return MANY_ASSETS.format(definitions="\n\n".join(definitions))


def median_process(arguments: list[str], repeat: int, cwd=None) -> float:
    return statistics.median(run_process(arguments, cwd)[0] for _ in range(repeat))


def run(smoke: bool) -> None:
    repeat = 3 if smoke else 15
    python = median_process([sys.executable, "-c", "pass"], repeat)
    pandas = median_process([sys.executable, "-c", "import pandas"], repeat)
    version = median_process(partita_command("--version"), repeat)
    listing = median_process(partita_command("--project", str(REPO), "list"), repeat)
    count = 100 if smoke else 1000
    with temporary_project({"generated.py": generated_project(count)}) as root:
        loading = median_process(
            [sys.executable, "-c", f"import partita; partita.load_project({str(root)!r})"],
            repeat,
        )
        listing_many = median_process(partita_command("--project", str(root), "list"), repeat)
    report(
        "Start-up (median wall time of whole processes)",
        [
            ("python -c pass", f"{python:.3f} s"),
            ('python -c "import pandas"', f"{pandas:.3f} s"),
            ("partita --version", f"{version:.3f} s ({version / python:.1f}x python)"),
            ("partita list (example project)", f"{listing:.3f} s ({listing / pandas:.2f}x pandas)"),
            (f"load_project, {count} assets", f"{loading:.3f} s"),
            (f"partita list, {count} assets", f"{listing_many:.3f} s"),
        ],
    )
