"""Kafka helpers: an idempotent broker, event publishing, and safe consumption.

Consumption is at-least-once: offsets are committed after the handler returns. A message that
cannot be parsed, or whose handler keeps failing after the retry cap, goes to the consumer's
dead-letter topic with the reason, so nothing is lost and nothing blocks the partition.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, TypeAdapter, ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from fivelink_shared import topics
from fivelink_shared.events import EventBase
from fivelink_shared.logs import correlation_id
from fivelink_shared.settings import CommonSettings

log = logging.getLogger(__name__)

E = TypeVar("E", bound=BaseModel)


class PermanentError(Exception):
    """The message can never succeed (bad content); dead-letter it at once."""


def make_broker(settings: CommonSettings, registry: CollectorRegistry, service: str) -> KafkaBroker:
    """Kafka broker with an idempotent producer (acks=all) and Prometheus middleware.

    FastStream logs through our logger, so its lines are JSON with the correlation id too.
    """
    return KafkaBroker(
        settings.kafka_bootstrap,
        enable_idempotence=True,
        acks="all",
        client_id=f"fivelink-{service}",
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=service)],
        logger=logging.getLogger("fivelink.broker"),
    )


async def ensure_topics(settings: CommonSettings) -> None:
    """Create the event and dead-letter topics with county partitions if they are missing."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [*topics.ALL, *(topics.dead_letter(c) for c in topics.CONSUMERS)]
        missing = [
            NewTopic(name, num_partitions=settings.kafka_partitions, replication_factor=1)
            for name in wanted
            if name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another service created it first
    finally:
        await admin.close()


async def publish_event(broker: KafkaBroker, topic: str, event: EventBase) -> None:
    """Publish an event keyed by its county code, with its correlation id as a header."""
    await broker.publish(
        event.model_dump(mode="json"),
        topic=topic,
        key=event.county.encode(),
        headers={"correlation_id": event.correlation_id, "event_type": _event_type(event)},
        correlation_id=event.event_id,
    )


def _event_type(event: BaseModel) -> str:
    return str(getattr(event, "type", type(event).__name__))


class SafeConsumer:
    """Wraps a typed handler: parse, de-duplicate, retry with backoff, dead-letter.

    ``seen``/``mark`` are the consumer's processed-events record (see ``mongo.ProcessedEvents``).
    """

    def __init__(
        self,
        *,
        broker: KafkaBroker,
        consumer: str,
        settings: CommonSettings,
        registry: CollectorRegistry,
        seen: Callable[[str], Awaitable[bool]],
        mark: Callable[[str], Awaitable[None]],
    ) -> None:
        self.broker = broker
        self.consumer = consumer
        self.settings = settings
        self.seen = seen
        self.mark = mark
        self.dead_letters = Counter(
            "fivelink_dead_letters_total",
            "Messages sent to a dead-letter topic, by consumer and reason",
            ["consumer", "reason"],
            registry=registry,
        )
        self.duplicates = Counter(
            "fivelink_duplicate_events_total",
            "Redelivered events skipped by the processed-events record",
            ["consumer"],
            registry=registry,
        )
        for reason in ("invalid", "failed"):
            self.dead_letters.labels(consumer, reason)
        self.duplicates.labels(consumer)

    async def handle(
        self,
        raw: bytes,
        adapter: TypeAdapter[E],
        handler: Callable[[E], Awaitable[None]],
        topic: str,
    ) -> None:
        """Process one raw message; never raises for bad content."""
        try:
            event = adapter.validate_json(raw)
        except ValidationError as exc:
            await self._dead_letter(raw, topic, "invalid", _short(exc))
            return
        event_id = str(getattr(event, "event_id", ""))
        token = correlation_id.set(str(getattr(event, "correlation_id", "-")))
        try:
            await self._process(event, event_id, raw, handler, topic)
        finally:
            correlation_id.reset(token)

    async def _process(
        self,
        event: E,
        event_id: str,
        raw: bytes,
        handler: Callable[[E], Awaitable[None]],
        topic: str,
    ) -> None:
        if event_id and await self.seen(event_id):
            self.duplicates.labels(self.consumer).inc()
            return
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.settings.max_delivery_attempts),
                wait=wait_exponential_jitter(initial=0.2, max=5),
                retry=retry_if_not_exception_type(PermanentError),
                reraise=True,
            ):
                with attempt:
                    await handler(event)
        except Exception as exc:  # the retry cap was hit or the error is permanent
            log.exception("handler failed, dead-lettering", extra={"topic": topic})
            await self._dead_letter(raw, topic, "failed", f"{type(exc).__name__}: {exc}"[:500])
            return
        if event_id:
            await self.mark(event_id)
        log.info(
            "event handled",
            extra={"topic": topic, "event_type": _event_type(event), "event_id": event_id},
        )

    async def _dead_letter(self, raw: bytes, topic: str, reason: str, detail: str) -> None:
        self.dead_letters.labels(self.consumer, reason).inc()
        log.warning("dead letter", extra={"topic": topic, "reason": reason, "detail": detail})
        await self.broker.publish(
            {
                "source_topic": topic,
                "reason": reason,
                "detail": detail,
                "payload": raw.decode("utf-8", errors="replace"),
            },
            topic=topics.dead_letter(self.consumer),
        )


def _short(exc: ValidationError) -> str:
    return json.dumps(
        [{"loc": ".".join(map(str, e["loc"])), "msg": e["msg"]} for e in exc.errors()[:5]],
        ensure_ascii=False,
    )[:500]
