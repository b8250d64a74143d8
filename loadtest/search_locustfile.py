"""HTTP load on POST /catalog/search with the buyers' query mix of ``loadtest/products.py``.

    .venv/bin/locust -f loadtest/search_locustfile.py --headless -u 50 -r 50 -t 60s --host http://127.0.0.1:8000

Needs an index built from the generated catalogue (``loadtest/search_bench.py`` loads it, builds it
and runs this file itself). Every simulated buyer sends searches back to back, or, with
SEARCH_LOCUST_PACE=<searches/s per user>, at that steady pace (users x pace = the offered load).
Kinds (the request names): 1-word, 2-word, prefix (a Korean first syllable or 2-5 letters),
korean (descriptor + type, with and without the space), filtered (category / price band /
inStock, some sorted by price or newest) and browse (no words: a category by price or newest,
the facet page). A response counts as failed unless it is 200 with items, total and facets.
SEARCH_LOCUST_SEED picks the query stream (each user continues it from its own offset).
"""
from __future__ import annotations

import itertools
import os
import random
import sys
from pathlib import Path

from locust import FastHttpUser, constant_throughput, task

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtest.products import query  # noqa: E402

PACE = float(os.environ.get("SEARCH_LOCUST_PACE", "0"))
SEED = int(os.environ.get("SEARCH_LOCUST_SEED", "1"))
_users = itertools.count()


class Buyer(FastHttpUser):
    wait_time = constant_throughput(PACE) if PACE > 0 else (lambda self: 0)

    def on_start(self):
        self.rng = random.Random(SEED * 7919 + next(_users))

    @task
    def search(self):
        kind, body = query(self.rng)
        with self.client.post("/catalog/search", json=body, name=kind, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            answer = response.json()
            if "items" not in answer or "total" not in answer or "category" not in answer.get("facets", {}):
                response.failure("no items, total or facets")
