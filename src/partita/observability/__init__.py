"""Observing runs: alerts, OpenLineage events, run statistics. Each is a run listener the
session attaches (or a reader of the catalog), so every front end gets them."""
