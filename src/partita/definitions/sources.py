"""`@observable_source`: data partita does not produce, observed for changes.

An observable source is a node of the asset graph whose function returns a data version
per partition (a hash, an `updated_at` maximum, a file's size and mtime) instead of data.
Observing it records that version in the catalog like a materialization that stores
nothing, so the downstream partitions that read it go stale with the reason
`upstream changed: SOURCE KEY` exactly when the version changes (an unchanged version
keeps them up to date). Downstream assets declare it in `deps=`; there is no data to read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from .asset import CONTEXT_PARAMETER, AssetDefinition, _define
from .policies import parse_duration

SOURCE_OPTIONS = ("name", "partitions", "every", "description", "group", "tags", "timeout")
DEFAULT_EVERY = timedelta(minutes=5)


def observable_source(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Declare an observable source. Works bare and with keywords: name, partitions, every
    (how often the daemon observes it, default `"5m"`), description, group, tags, timeout.

    The function takes `context` (or nothing) and returns the partition's data version:
    any str, number, bytes, tuple or datetime; equal values mean unchanged data.
    """
    if fn is not None:
        return _define_source(fn, options)
    return lambda function: _define_source(function, options)


def _define_source(fn: Callable[..., Any], options: dict[str, Any]) -> AssetDefinition:
    problems = []
    unknown = sorted(set(options) - set(SOURCE_OPTIONS))
    if unknown:
        problems.append(
            f"@observable_source got unknown keyword(s) {', '.join(unknown)}; "
            f"the keywords are {', '.join(SOURCE_OPTIONS)}"
        )
    every = DEFAULT_EVERY
    try:
        every = parse_duration(options.get("every", DEFAULT_EVERY))
    except ValueError as error:
        problems.append(f"every=: {error}")
    asset_options = {k: v for k, v in options.items() if k in SOURCE_OPTIONS and k != "every"}
    definition = _define(fn, {**asset_options, "group": options.get("group") or "sources"})
    extra = [p.name for p in definition.parameters if p.name != CONTEXT_PARAMETER]
    if extra:
        problems.append(
            f"an observable source takes only 'context', not {', '.join(extra)}: it reads "
            "nothing partita produces"
        )
    return replace(
        definition,
        observe_every=every,
        problems=(*definition.problems, *problems),
    )


def observed_version(asset: str, value: Any) -> str:
    """The data version recorded for what an observation function returned."""
    if value is None:
        raise TypeError(
            f"observable source '{asset}' returned None: return a data version (a hash, an "
            "updated_at maximum, a file's size and mtime)"
        )
    payload = value if isinstance(value, bytes) else repr(value).encode()
    return hashlib.sha256(payload).hexdigest()[:16]
