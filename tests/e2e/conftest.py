from tests.eventbus.conftest import probe_table  # noqa: F401 - the probe subscriber's effect table
