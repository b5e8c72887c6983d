"""Correlation id middleware and the store latency listener, without servers."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from fivelink_shared.logs import JsonFormatter, correlation_id
from fivelink_shared.observability import CorrelationIdMiddleware, StoreLatencyListener


def app() -> FastAPI:
    api = FastAPI()
    api.add_middleware(CorrelationIdMiddleware)

    @api.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"cid": correlation_id.get()}

    return api


async def get(headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/v1/things/x1", headers=headers or {})


async def test_obs_correlation_id_is_generated_and_returned() -> None:
    resp = await get()
    cid = resp.headers["X-Correlation-Id"]
    assert len(cid) == 36 and resp.json()["cid"] == cid


async def test_obs_given_correlation_id_is_kept() -> None:
    resp = await get({"X-Correlation-Id": "case-abc.123"})
    assert resp.headers["X-Correlation-Id"] == "case-abc.123" == resp.json()["cid"]


async def test_obs_malformed_correlation_id_is_replaced() -> None:
    resp = await get({"X-Correlation-Id": "x" * 200})
    assert resp.headers["X-Correlation-Id"] != "x" * 200
    assert resp.json()["cid"] == resp.headers["X-Correlation-Id"]


async def test_obs_access_line_is_json_with_route_template(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="fivelink.access"):
        resp = await get({"X-Correlation-Id": "cid-1"})
    record = next(r for r in caplog.records if r.name == "fivelink.access")
    line = json.loads(JsonFormatter("intake").format(record))
    assert line["route"] == "/v1/things/{thing_id}" and line["status"] == 200
    assert resp.status_code == 200
    assert correlation_id.get() == "-"  # reset after the request


def test_obs_store_listener_observes_by_command_and_collection() -> None:
    registry = CollectorRegistry()
    listener = StoreLatencyListener(registry)
    started = SimpleNamespace(request_id=7, command_name="find", command={"find": "cases"})
    listener.started(started)  # type: ignore[arg-type]
    listener.succeeded(SimpleNamespace(request_id=7, command_name="find", duration_micros=1500))  # type: ignore[arg-type]
    weird = SimpleNamespace(request_id=8, command_name="saslStart", command={"saslStart": 1})
    listener.started(weird)  # type: ignore[arg-type]
    listener.failed(SimpleNamespace(request_id=8, command_name="saslStart", duration_micros=10))  # type: ignore[arg-type]
    get = registry.get_sample_value
    name = "fivelink_store_operation_duration_seconds"
    assert get(f"{name}_count", {"command": "find", "collection": "cases", "outcome": "ok"}) == 1
    assert get(f"{name}_sum", {"command": "find", "collection": "cases", "outcome": "ok"}) == 0.0015
    assert get(f"{name}_count", {"command": "other", "collection": "-", "outcome": "error"}) == 1
