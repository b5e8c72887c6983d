"""A background job that runs an async function every few seconds until stopped.

Failures are logged and retried on the next tick, so one bad round (the store briefly down,
say) never kills the loop. Used for the outbox sweep, SLA escalations and follow-ups.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, interval_s: float, job: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self.interval_s = interval_s
        self.job = job
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.job()
            except Exception:
                log.exception("%s failed; will retry", self.name)
            await asyncio.sleep(self.interval_s)
