"""Celery entry points of search: rebuilding the index when it was lost."""
import logging

from celery import shared_task

from commerce.search import index, rebuild

log = logging.getLogger(__name__)

REBUILD_LOCK = "search:rebuild-lock"
REBUILD_LOCK_SECONDS = 1800


def request_rebuild() -> bool:
    """Start one rebuild, whoever asks and however often. Returns True if this call started it."""
    conn = index.client()
    if not conn.set(REBUILD_LOCK, "1", nx=True, ex=REBUILD_LOCK_SECONDS):
        return False
    try:
        rebuild_task.apply_async(queue="search", retry=False)
    except Exception:
        conn.delete(REBUILD_LOCK)
        raise
    return True


@shared_task(name="search.rebuild", ignore_result=True)
def rebuild_task() -> None:
    try:
        generation, count = rebuild.rebuild()
        log.warning("search: the index was rebuilt (generation %s, %d products)", generation, count)
    finally:
        index.client().delete(REBUILD_LOCK)
