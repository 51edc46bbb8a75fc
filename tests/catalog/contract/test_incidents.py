"""Contract: alert incidents (one open per key) and their notifications."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partita.catalog import Catalog
from partita.catalog.records import IncidentEvent, NotificationRecord

from .helpers import at


def _open(catalog: Catalog, key: str = "r:flights:2013-01-01", minute: int = 0, **fields):
    values = {
        "rule": "r",
        "kind": "unit_failed",
        "asset": "flights",
        "partition": "2013-01-01",
        "run_id": "run-1",
        "opened": at(minute),
        "message": "flights 2013-01-01 failed",
    }
    values.update(fields)
    return catalog.open_incident(key, **values)


def test_one_open_incident_per_key_until_it_resolves(catalog: Catalog) -> None:
    first = _open(catalog)
    assert first is not None
    assert (first.key, first.asset, first.partition, first.opened) == (
        "r:flights:2013-01-01",
        "flights",
        "2013-01-01",
        at(0),
    )
    assert first.resolved is None
    assert _open(catalog, minute=1) is None  # still open: the same incident
    assert [i.incident_id for i in catalog.open_incidents()] == [first.incident_id]

    resolved = catalog.resolve_incident(first.key, at(2))
    assert resolved is not None
    assert (resolved.incident_id, resolved.resolved) == (first.incident_id, at(2))
    assert catalog.resolve_incident(first.key, at(3)) is None
    assert catalog.open_incidents() == []

    again = _open(catalog, minute=4)
    assert again is not None and again.incident_id != first.incident_id
    assert [i.incident_id for i in catalog.incidents()] == [again.incident_id, first.incident_id]
    assert [i.incident_id for i in catalog.incidents(limit=1)] == [again.incident_id]


def test_unpartitioned_and_runless_incidents_round_trip(catalog: Catalog) -> None:
    opened = _open(catalog, "runs", asset=None, partition=None, run_id=None, kind="run_failed")
    assert opened is not None
    (listed,) = catalog.incidents()
    assert (listed.asset, listed.partition, listed.run_id, listed.kind) == (
        None,
        None,
        None,
        "run_failed",
    )


def test_notifications_are_listed_with_their_incident(catalog: Catalog) -> None:
    incident = _open(catalog)
    assert incident is not None
    sent = NotificationRecord(IncidentEvent.OPENED, "webhook example.com", at(1), True, 1)
    failed = NotificationRecord(
        IncidentEvent.OPENED, "email ops@example.com", at(1), False, 3, "refused"
    )
    catalog.record_notification(incident.incident_id, sent)
    catalog.record_notification(incident.incident_id, failed)
    (listed,) = catalog.incidents()
    assert listed.notifications == (sent, failed)
    assert catalog.open_incidents()[0].notifications == (sent, failed)
    resolved = catalog.resolve_incident(incident.key, at(2))
    assert resolved is not None and resolved.notifications == (sent, failed)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.booleans()), max_size=12))
def test_open_incidents_follow_the_last_event_of_each_key(fresh_catalog, events) -> None:
    with fresh_catalog() as catalog:
        expected: dict[str, bool] = {}
        for minute, (key, opening) in enumerate(events):
            if opening:
                opened = _open(catalog, key, minute)
                assert (opened is not None) == (not expected.get(key, False))
                expected[key] = True
            else:
                resolved = catalog.resolve_incident(key, at(minute))
                assert (resolved is not None) == expected.get(key, False)
                expected[key] = False
        assert sorted(i.key for i in catalog.open_incidents()) == sorted(
            k for k, is_open in expected.items() if is_open
        )
