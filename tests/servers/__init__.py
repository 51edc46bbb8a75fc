"""Real servers the tests start themselves: PostgreSQL, an S3-compatible server, Dask.

Each is started once per test session (per xdist worker), stopped by its pid at the end,
and never skipped: a server that cannot start fails the tests that need it, with the reason.
"""
