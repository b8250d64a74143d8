"""Probe events and handlers for the event bus tests. Imported by the tests, and by worker
processes through EVENTBUS_EXTRA_HANDLER_MODULES. Each handled event leaves one row in
probe_effect, in the handler's transaction, so a second effect would show as a second row."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import ClassVar

from django.db import connection

from commerce.eventbus import DomainEvent, publish_many, subscribe

BROKEN: set[int] = set()  # seq numbers the per-event probe refuses (in this process)


@dataclass(frozen=True, kw_only=True)
class ProbeHappened(DomainEvent):
    name: ClassVar[str] = "probe.happened"
    seq: int = 0


CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS probe_effect (event_id uuid NOT NULL, handler text NOT NULL,"
    " seq int NOT NULL, aggregate_id text NOT NULL, aggregate_version bigint NOT NULL,"
    " handled_at timestamptz NOT NULL DEFAULT clock_timestamp())"
)


def _record(handler: str, events) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO probe_effect (event_id, handler, seq, aggregate_id, aggregate_version)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(e.event_id, handler, getattr(e, "seq", -1), e.aggregate_id, e.aggregate_version) for e in events],
        )


@subscribe(ProbeHappened, "members.member_registered", handler="probe.record", queue="probe")
def on_probe_happened(event) -> None:
    if getattr(event, "seq", None) in BROKEN:
        raise RuntimeError(f"probe is broken for seq {event.seq}")
    delay = float(os.environ.get("PROBE_HANDLER_SLEEP", "0"))
    if delay:
        time.sleep(delay)
    _record("probe.record", [event])


@subscribe(ProbeHappened, handler="probe.record_batch", queue="probe", batch=True)
def on_probe_happened_batch(events) -> None:
    _record("probe.record_batch", events)


@dataclass(frozen=True, kw_only=True)
class ProbeChained(DomainEvent):
    """A saga step in miniature: its handler publishes a ProbeHappened with the same seq."""

    name: ClassVar[str] = "probe.chained"
    seq: int = 0


@subscribe(ProbeChained, handler="probe.chain", queue="probe", batch=True)
def on_probe_chained(events) -> None:
    publish_many([ProbeHappened(aggregate_id=e.aggregate_id, aggregate_version=e.aggregate_version, seq=e.seq)
                  for e in events])
