"""Running on its own: automation conditions evaluated each tick (`evaluate.py`, pure),
a tick's evaluation of conditions, observable sources and sensors (`tick.py`,
`sensors.py`), the daemon loop (`daemon.py`) and the process that runs a tick
(`launch.py`). Above the application layer: it asks a `Session` like any front end."""
