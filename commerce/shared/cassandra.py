"""The Cassandra session of the ``cassandra`` database alias.

django-cassandra-engine registers the alias with the driver's connection registry when Django
starts (lazily: the first use connects, after uWSGI or Celery have forked). Code takes the
session from that registry rather than through Django's connection wrapper.
"""
from __future__ import annotations

from cassandra.cqlengine import connection as registry
from django.conf import settings

ALIAS = "cassandra"


def session():
    return registry.get_session(connection=ALIAS)


def keyspace() -> str:
    return settings.DATABASES[ALIAS]["NAME"]
