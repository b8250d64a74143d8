"""Django's PostgreSQL backend with a connection health check that sends no query (see base.py)."""
