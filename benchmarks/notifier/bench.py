"""Notifier benchmark: a bounded burst of assignment events through the whole delivery path
(Kafka → notifier consumer → claimed deliveries in the store → worker → signed webhook POST to
local receivers) against a baseline measured in the same run: the webhook channel alone
(``WebhookChannel.send`` in-process to the same receivers, no Kafka, no store).

Needs a running stack (``FIVELINK_TEST_KEEP=1 FIVELINK_TEST_PORT_BASE=19300 uv run pytest
tests/e2e``, or ``uv run fivelink up``):

    uv run python benchmarks/notifier/bench.py --port-base 19300 --events 300 --receivers 5

Prints a Markdown table (deliveries/s, p50 and p95 event→delivery latency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from fivelink_cli import infra
from fivelink_notifier.channels.base import ChannelKind, Message, Role, WebhookTarget
from fivelink_notifier.channels.webhook import WebhookChannel
from fivelink_shared import topics
from fivelink_shared.events import AssignmentProposed, Explanation, Language, Region, Urgency

SECRET = "bench-secret-0123456789abcdef"


class Receiver:
    """A local webhook receiver that records when each event id arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.time()
                event_id = json.loads(body).get("event_id", "")
                with receiver.lock:
                    receiver.arrivals.setdefault(event_id, now)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def proposal(county: str, org: str, n: int, run: str) -> AssignmentProposed:
    return AssignmentProposed(
        county=county,
        assignment_id=f"a-b{run}-{n}",
        case_id=f"c-b{run}-{n}",
        person_ref=f"p-b{run}-{n}",
        line_id=f"l-b{run}-{n}",
        need_type="food",
        offer_id=f"o-b{run}-{org}",
        org_id=org,
        offer_kind="goods",
        quantity=5,
        unit="kg",
        urgency=Urgency.HIGH,
        language=Language.ZH,
        region=Region(county=county, community=f"{county}001001"),
        explanation=Explanation(summary="bench", solver="min_cost_flow"),
    )


async def baseline(receivers: list[Receiver], n: int, concurrency: int) -> dict[str, float]:
    """The webhook channel alone: render-free sends of ready messages, same concurrency."""
    channel = WebhookChannel(client=httpx.AsyncClient(), timeout_s=10)
    sem = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(i: int) -> None:
        r = receivers[i % len(receivers)]
        msg = Message(
            recipient=f"org-{i % len(receivers)}",
            role=Role.CHARITY,
            channel=ChannelKind.WEBHOOK,
            language=Language.ZH,
            subject="s",
            body="b" * 400,
            event_id=f"base-{uuid.uuid4()}",
        )
        async with sem:
            start = time.time()
            result = await channel.send(WebhookTarget(url=r.url, secret=SECRET), msg)
            assert result.ok, result
            latencies.append(time.time() - start)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    wall = time.perf_counter() - t0
    return {"rate": n / wall, "p50": p(latencies, 50), "p95": p(latencies, 95), "wall": wall}


async def pipeline(stack: infra.Stack, receivers: list[Receiver], n: int) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    county = "159999"
    orgs = [f"org-bench{i}-{run}" for i in range(len(receivers))]
    async with httpx.AsyncClient(timeout=10, headers=stack.service_headers()) as http:
        for org, r in zip(orgs, receivers, strict=True):
            resp = await http.post(
                f"{stack.url('notifier')}/v1/subscriptions",
                json={
                    "party_id": org,
                    "role": "charity",
                    "channel": "webhook",
                    "target": {"kind": "webhook", "url": r.url, "secret": SECRET},
                },
            )
            resp.raise_for_status()
    events = [proposal(county, orgs[i % len(orgs)], i, run) for i in range(n)]
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, linger_ms=5)
    await producer.start()
    t0 = time.perf_counter()
    try:
        sent = [
            await producer.send(
                topics.ASSIGNMENTS, e.model_dump_json().encode(), key=county.encode()
            )
            for e in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    ids = {e.event_id: e.occurred_at.timestamp() for e in events}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        got = sum(1 for r in receivers for i in r.arrivals if i in ids)
        if got >= n:
            break
        await asyncio.sleep(0.1)
    wall = time.perf_counter() - t0
    arrivals = {i: t for r in receivers for i, t in r.arrivals.items() if i in ids}
    if len(arrivals) < n:
        raise SystemExit(f"only {len(arrivals)} of {n} delivered within the time limit")
    latencies = [arrivals[i] - ids[i] for i in ids]
    return {"rate": n / wall, "p50": p(latencies, 50), "p95": p(latencies, 95), "wall": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-base", type=int, default=19300)
    parser.add_argument("--events", type=int, default=300, help="burst size (max 5000)")
    parser.add_argument("--receivers", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32, help="baseline's parallel sends")
    args = parser.parse_args()
    n = min(max(args.events, 10), 5000)
    stack = infra.Stack(
        infra.REPO_ROOT / ".run" / f"test-{args.port_base}", infra.Ports.from_base(args.port_base)
    )
    if not infra.http_ok(f"{stack.url('notifier')}/healthz"):
        raise SystemExit(f"no notifier at {stack.url('notifier')}: start the stack first")
    receivers = [Receiver() for _ in range(args.receivers)]
    try:
        base = asyncio.run(baseline(receivers, n, args.concurrency))
        full = asyncio.run(pipeline(stack, receivers, n))
    finally:
        for r in receivers:
            r.stop()
    print(f"\n{n} events, {args.receivers} webhook receivers\n")
    print("| path | deliveries/s | p50 latency | p95 latency | wall |")
    print("|---|---:|---:|---:|---:|")
    for name, m in (
        ("webhook channel alone (baseline)", base),
        ("Kafka → notifier → store → webhook", full),
    ):
        print(
            f"| {name} | {m['rate']:.0f} | {m['p50'] * 1000:.0f} ms | "
            f"{m['p95'] * 1000:.0f} ms | {m['wall']:.1f} s |"
        )


if __name__ == "__main__":
    main()
