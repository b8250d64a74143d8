"""Periodic work of the orders context (scheduled by Celery beat, see config/settings/base.py)."""
from celery import shared_task

from commerce.orders import services


@shared_task(name="orders.check_deadlines", ignore_result=True)
def check_deadlines() -> int:
    """Unstick PENDING orders whose saga step is overdue, a batch at a time until none is left."""
    batch = 500
    handled = total = services.orders_check_deadlines(limit=batch)
    while handled == batch:
        handled = services.orders_check_deadlines(limit=batch)
        total += handled
    return total
