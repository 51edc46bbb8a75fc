"""Resources at run time: built once per process, closed newest first, errors for people."""

from __future__ import annotations

import pytest

from partita import resource
from partita.execution.resources import ResourceError, ResourceSet


def test_a_resource_is_built_once_and_closed_after_its_yield() -> None:
    events = []

    @resource
    def pool(size: int = 1):
        events.append(("open", size))
        yield {"size": size}
        events.append(("close", size))

    class Client:
        def close(self):
            events.append(("close", "client"))

    @resource
    def client():
        events.append(("open", "client"))
        return Client()

    resources = ResourceSet({"pool": pool, "client": client}, {"pool": {"size": 4}})
    assert resources.get("pool") is resources.get("pool")
    assert resources.get("pool") == {"size": 4}
    resources.get("client")
    resources.close()
    assert events == [("open", 4), ("open", "client"), ("close", "client"), ("close", 4)]


def test_configuration_problems_name_the_resource_and_key() -> None:
    @resource
    def db(url: str):
        return url

    with pytest.raises(ResourceError, match=r"sets port, which resource 'db' .* does not take"):
        ResourceSet({"db": db}, {"db": {"url": "x", "port": 1}}).get("db")
    with pytest.raises(ResourceError, match=r"needs url: set it in \[tool.partita.resources.db\]"):
        ResourceSet({"db": db}, {}).get("db")


def test_a_failing_resource_fails_each_use_the_same_way_with_secrets_masked(monkeypatch) -> None:
    calls = []
    monkeypatch.setenv("API_KEY_FOR_TEST", "key-5555-abcd")

    @resource
    def api(key: str):
        calls.append(key)
        raise ConnectionError(f"refused key {key}")

    resources = ResourceSet({"api": api}, {"api": {"key": "${API_KEY_FOR_TEST}"}})
    for _ in range(2):
        with pytest.raises(ResourceError) as caught:
            resources.get("api")
        assert "refused key ***" in str(caught.value)
        assert "key-5555-abcd" not in str(caught.value)
    assert len(calls) == 1
