"""No-op consumers for the event bus benchmark: they only note how late each event arrived."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from commerce.eventbus import DomainEvent, subscribe
from commerce.eventbus.signals import redis_client

LAG_KEY = "bench:eventbus:lag-ms"


@dataclass(frozen=True, kw_only=True)
class BenchTicked(DomainEvent):
    name: ClassVar[str] = "bench.ticked"
    seq: int = 0


@subscribe(BenchTicked, handler="bench.noop", queue="bench", batch=True)
def on_bench_ticked(events) -> None:
    now = time.time()
    redis_client().rpush(LAG_KEY, *[round((now - e.occurred_at.timestamp()) * 1000, 2) for e in events])
