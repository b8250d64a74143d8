"""The event bus tables: the outbox (what happened), dispatches (who still has to hear it) and the
inbox (who already acted on it). The database, not the broker, is the source of truth."""
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models.functions import Now


class OutboxEvent(models.Model):
    """One domain event, written in the transaction of the change it describes."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField()
    name = models.CharField(max_length=200)
    event_version = models.PositiveSmallIntegerField(default=1)
    aggregate_id = models.CharField(max_length=100)
    aggregate_version = models.BigIntegerField(default=0)
    occurred_at = models.DateTimeField()
    payload = models.JSONField()
    created_at = models.DateTimeField(db_default=Now())
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "eventbus_outbox"
        indexes = [
            # the relay's work list stays tiny however large the table grows
            models.Index(fields=["id"], name="eventbus_outbox_unpublished",
                         condition=models.Q(published_at__isnull=True)),
            # pruning walks by age; rows arrive in time order, so a tiny BRIN index does
            BrinIndex(fields=["created_at"], name="eventbus_outbox_created_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.id}"


class Dispatch(models.Model):
    """A batch of outbox events on its way to one handler.

    ``pending`` until the handler's transaction commits (which marks it ``done`` in the same
    transaction), ``dead`` after too many failures. A dispatch in partition >= 0 is part of the
    ordered stream of (handler, partition); retries of single failed events use partition -1.
    """

    PENDING, DONE, DEAD = "pending", "done", "dead"

    id = models.BigAutoField(primary_key=True)
    handler = models.CharField(max_length=200)
    queue = models.CharField(max_length=100)
    partition = models.SmallIntegerField()
    outbox_ids = ArrayField(models.BigIntegerField())
    status = models.CharField(max_length=10, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # times the sweep had to send it again because no handler finished it by its deadline
    sweeps = models.PositiveIntegerField(db_default=0)
    due_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "eventbus_dispatch"
        indexes = [
            models.Index(fields=["due_at"], name="eventbus_dispatch_due",
                         condition=models.Q(status="pending")),
            models.Index(fields=["handler", "partition", "id"], name="eventbus_dispatch_stream",
                         condition=models.Q(status="pending")),
            models.Index(fields=["id"], name="eventbus_dispatch_dead", condition=models.Q(status="dead")),
            BrinIndex(fields=["created_at"], name="eventbus_dispatch_created_brin"),
        ]

    def __str__(self) -> str:
        return f"dispatch #{self.id} to {self.handler} ({self.status})"


class InboxEntry(models.Model):
    """(event, handler) that has taken effect; inserted in the handler's own transaction."""

    pk = models.CompositePrimaryKey("event_id", "handler")
    event_id = models.UUIDField()
    handler = models.CharField(max_length=200)
    processed_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "eventbus_inbox"
        indexes = [BrinIndex(fields=["processed_at"], name="eventbus_inbox_processed_brin")]

    def __str__(self) -> str:
        return f"{self.handler} handled {self.event_id}"
