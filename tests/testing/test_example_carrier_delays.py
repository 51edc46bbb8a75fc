"""A user's tests of the example's `carrier_delays`, written as the README shows them:
through `partita.testing` and the `partita_project` fixture of partita's pytest plugin."""

from datetime import datetime

import pandas as pd

from partita.testing import materialize_in_memory


def flight(carrier, dep_time, arr_delay, precip=0.0, visib=10.0):
    return {
        "year": 2013, "month": 1, "day": 2, "carrier": carrier, "flight": 1,
        "dep_time": dep_time, "dep_delay": 0.0, "arr_delay": arr_delay,
        "precip": precip, "visib": visib,
    }  # fmt: skip


def test_carrier_delays_counts_cancellations_and_on_time_flights(partita_project):
    carrier_delays = partita_project.load().graph["carrier_delays"]
    flights_weather = pd.DataFrame(
        [
            flight("UA", 517.0, 11.0),
            flight("UA", None, None),  # cancelled
            flight("AA", 542.0, 33.0, precip=0.2),
        ]
    )
    outputs = materialize_in_memory(
        [carrier_delays], partition="2013-01-02", inputs={"flights_weather": flights_weather}
    )
    by_carrier = outputs["carrier_delays"].set_index("carrier")
    assert by_carrier.loc["UA", "flights"] == 2
    assert by_carrier.loc["UA", "cancelled"] == 1
    assert by_carrier.loc["UA", "on_time_rate"] == 0.5  # the cancelled flight is not on time
    assert by_carrier.loc["AA", "bad_weather_flights"] == 1


def test_carrier_delays_of_one_day_in_a_warehouse_of_its_own(partita_project):
    report = partita_project.materialize(
        "+carrier_delays", partition="2013-01-02", now=datetime(2013, 1, 10)
    )
    assert not report.failed
    delays = partita_project.read("carrier_delays", "2013-01-02")
    assert set(delays["day"]) == {2}
    assert delays["flights"].sum() > 500
    assert partita_project.warehouse.is_relative_to(partita_project.root)


def test_carrier_delays_counts_cancellations(partita_project):
    """Verbatim the README's example (NOTES-env.md)."""
    carrier_delays = partita_project.load().graph["carrier_delays"]
    flights_weather = pd.DataFrame(
        {"year": 2013, "month": 1, "day": 2, "carrier": ["UA", "UA"], "flight": 1,
         "dep_time": [517.0, None], "dep_delay": 0.0, "arr_delay": [11.0, None],
         "precip": 0.0, "visib": 10.0}
    )  # fmt: skip
    outputs = materialize_in_memory(
        [carrier_delays], partition="2013-01-02", inputs={"flights_weather": flights_weather}
    )
    row = outputs["carrier_delays"].set_index("carrier").loc["UA"]
    assert (row["flights"], row["cancelled"], row["on_time_rate"]) == (2, 1, 0.5)
