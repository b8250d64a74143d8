"""Django's PostgreSQL backend (psycopg 3) with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a reused connection before its first query in each request
by running ``SELECT 1``: one more statement, one more round trip, per request (on
POST /order/process-order, a sixth of the statements PostgreSQL runs). An idle connection has
nothing to read unless the server has ended it: PostgreSQL sends an error (terminated backend,
shutdown, idle timeout) and closes, and a closed socket reads as end of file. So a socket that is
readable while idle means the connection is gone, and a poll with no timeout tells without asking
the server. Inside a transaction, or if the socket cannot be polled, Django's own check runs.
"""
from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed:
            return False
        if conn.info.transaction_status != pq.TransactionStatus.IDLE:
            return super().is_usable()
        try:
            poller = select.poll()
            poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False
