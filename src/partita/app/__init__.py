"""The application layer: the session every front end (CLI, Python API, later a web UI or
a daemon) uses. Requests in; plans, reports, statuses out; run events to listeners."""
