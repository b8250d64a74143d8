"""Who listens to what: handlers subscribe per event name, each with a stable name and a queue."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from commerce.eventbus.event import DomainEvent


@dataclass
class Handler:
    """A consumer. ``fn(event)`` by default; with ``batch=True``, ``fn(events)`` gets a list of the
    events of one dispatch that it has not handled yet (in publish order)."""

    name: str
    queue: str
    fn: Callable
    batch: bool = False
    partitions: int = 2
    max_batch: int | None = None
    max_attempts: int | None = None
    event_names: set[str] = field(default_factory=set)


_handlers: dict[str, Handler] = {}
_by_event: dict[str, list[Handler]] = {}


def subscribe(*events: type[DomainEvent] | str, handler: str, queue: str, batch: bool = False,
              partitions: int | None = None, max_batch: int | None = None, max_attempts: int | None = None):
    """Decorator: ``@subscribe(OrderPlaced, handler="catalog.reserve_stock", queue="catalog")``.

    ``handler`` is stored with every delivery and in the inbox: never rename a live handler.
    ``partitions``: how many ordered streams (by aggregate id) may run in parallel for this
    handler; default ``EVENTBUS["PARTITIONS"]``. Changing it on a live system reorders only events
    that are in flight at that moment. ``max_batch`` caps the events of one dispatch (one handler
    transaction): smaller batches hold the handler's locks for less time. ``max_attempts``
    overrides ``EVENTBUS["MAX_ATTEMPTS"]`` for a handler that should ride out a long outage.
    """
    names = [e if isinstance(e, str) else e.name for e in events]
    if not names:
        raise ValueError("subscribe() needs at least one event")

    def register(fn: Callable) -> Callable:
        existing = _handlers.get(handler)
        if existing is not None and (existing.fn.__qualname__, existing.fn.__module__) != (
            fn.__qualname__, fn.__module__
        ):
            raise ValueError(f"handler name {handler!r} is already taken by {existing.fn.__qualname__}")
        from django.conf import settings

        entry = Handler(name=handler, queue=queue, fn=fn, batch=batch, event_names=set(names),
                        partitions=partitions or settings.EVENTBUS["PARTITIONS"], max_batch=max_batch,
                        max_attempts=max_attempts)
        unregister(handler)
        _handlers[handler] = entry
        for name in names:
            _by_event.setdefault(name, []).append(entry)
        return fn

    return register


def unregister(handler: str) -> None:
    entry = _handlers.pop(handler, None)
    if entry is None:
        return
    for name in entry.event_names:
        _by_event[name] = [h for h in _by_event.get(name, []) if h.name != handler]


def handlers_for(event_name: str) -> Iterable[Handler]:
    return _by_event.get(event_name, ())


def handler_named(name: str) -> Handler | None:
    return _handlers.get(name)


def all_handlers() -> list[Handler]:
    return list(_handlers.values())
