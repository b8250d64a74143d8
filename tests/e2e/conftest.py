from tests.eventbus.conftest import probe_table  # noqa: F401 - the probe subscriber's effect table
from tests.search.conftest import search_index  # noqa: F401 - an empty live search index
