"""The PostgreSQL backend's health check (commerce/shared/postgresql): a live idle connection is
usable without a query, one the server has ended is not, and a web server whose connections were
all terminated between requests runs the next requests' queries on new ones. And the settings'
prepared statements: a statement run often on a connection is prepared there."""
import json
import urllib.error
import urllib.request

import pytest
from django.db import connection, connections

from tests.support.processes import free_port, start_web, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def terminate(where: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                       f" WHERE datname = current_database() AND pid <> pg_backend_pid() AND {where}", params)
        return cursor.fetchone()[0]


def other_client_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
        return cursor.fetchone()[0]


def last_query_of(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


@pytest.fixture
def other():
    """A second connection of the default database, as a web worker holds one between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def test_the_backend_is_in_use():
    assert type(connections["default"]).__module__ == "commerce.shared.postgresql.base"


def test_a_live_idle_connection_is_usable_without_sending_a_query(other):
    with other.cursor() as cursor:
        cursor.execute("SELECT 'the last statement'")
        cursor.fetchall()
    pid = other.connection.info.backend_pid

    assert other.is_usable()
    assert other.is_usable()

    # Django's own check would have left "SELECT 1" as the backend's last query
    assert last_query_of(pid) == "SELECT 'the last statement'"


def test_a_connection_the_server_terminated_is_not_usable(other):
    pid = other.connection.info.backend_pid
    assert terminate("pid = %s", [pid]) == 1

    wait_until(lambda: not other.is_usable(), timeout=5, what="the terminated connection to read as unusable")


def test_a_closed_connection_is_not_usable(other):
    other.connection.close()

    assert not other.is_usable()


def test_inside_a_transaction_the_check_asks_the_server(other):
    other.connection.execute("BEGIN")
    assert other.is_usable()
    pid = other.connection.info.backend_pid
    assert last_query_of(pid) == "SELECT 1"
    other.connection.execute("ROLLBACK")


def database_check(port: int) -> str:
    """What /health says of the database: it runs a query on the worker's connection."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
            return json.loads(response.read())["checks"]["database"]
    except urllib.error.HTTPError as error:
        return json.loads(error.read())["checks"]["database"]


@pytest.mark.e2e
def test_the_web_server_reconnects_after_its_connections_were_terminated():
    port = free_port()
    web = start_web(port)
    try:
        # both workers open their connection
        assert [database_check(port) for _ in range(10)] == ["ok"] * 10
        assert terminate("backend_type = 'client backend'") >= 1
        wait_until(lambda: other_client_backends() == 0, timeout=10, what="the web workers' backends to exit")

        # without a health check the first request of each worker would fail on its dead connection
        assert [database_check(port) for _ in range(10)] == ["ok"] * 10, web.tail()
    finally:
        web.stop()


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_run_often_on_a_connection_is_prepared_there(settings):
    """Django turns psycopg's preparing off unless OPTIONS sets prepare_threshold: without it every
    statement is parsed and planned again (a quarter of PostgreSQL's CPU per placed order)."""
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]
    assert threshold, "DATABASE_PREPARE_THRESHOLD turns prepared statements off"
    sql = "SELECT count(*) FROM pg_class WHERE relpages >= %s"
    for n in range(threshold):
        assert not any("FROM pg_class WHERE relpages >= $1" in s for s in prepared_statements()), n
        with connection.cursor() as cursor:
            cursor.execute(sql, [n])
            cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute(sql, [threshold])
        cursor.fetchone()
    assert any("FROM pg_class WHERE relpages >= $1" in s for s in prepared_statements())
