"""The event bus: transactional outbox, a Celery relay, idempotent handlers.

Public surface: ``DomainEvent`` (event base class), ``publish``/``publish_many`` (inside a transaction) and
``subscribe`` (handler registration). See README.md beside this file.
"""
from commerce.eventbus.event import DomainEvent
from commerce.eventbus.publisher import NotInTransaction, publish, publish_many, write_and_publish
from commerce.eventbus.subscriptions import subscribe

__all__ = ["DomainEvent", "NotInTransaction", "publish", "publish_many", "subscribe", "write_and_publish"]
