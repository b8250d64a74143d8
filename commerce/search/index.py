"""The search index in plain Redis structures, one generation at a time.

``search:generation`` names the live generation ``g``; everything else lives under ``s:{g}:``, so
a rebuild can fill a new generation aside and switch with one SET. A missing marker means the
index was lost (Redis restarted empty, flushed) or never built: searches answer 503 until a
rebuild sets it.

Per generation (``i`` is a small integer id per product: short members keep the sets small):

==================  ======  ==================================================================
key                 type    holds
==================  ======  ==================================================================
``n``               hash    product uuid -> ``i``; ``seq`` (string) hands out new ``i``
``d:{i}``           hash    ``u`` uuid, ``v`` product version, ``sv`` stock version, ``st`` in
                            stock 0/1, ``a`` active 0/1, ``c`` category, ``s`` seller,
                            ``p`` price in cents, ``t`` created (ms), ``k`` its tokens, ``j``
                            the JSON summary that results return
``t:{token}``       zset    ``i`` -> relevance of the token for the product (see ``weights``)
``all``             zset    ``i`` -> created (ms): newest first, and every product for an empty query
``c:{category}``    zset    ``i`` -> price: a category sorted by price
``sel:{seller}``    zset    ``i`` -> created (ms)
``in``              set     ``i`` of products in stock
==================  ======  ==================================================================

Writes go through Lua scripts, so each product changes atomically and an event older than the
version already indexed (product version, or stock version for stock) changes nothing. An
inactive product keeps only its ``d`` hash (``a`` = 0, its version): a late older event cannot
bring it back.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from decimal import Decimal

import redis
from django.conf import settings

from commerce.search import text

GENERATION_KEY = "search:generation"
BUILDING_KEY = "search:building"

NAME_WEIGHT, CATEGORY_WEIGHT, DESCRIPTION_WEIGHT = 1000, 300, 100


def client() -> redis.Redis:
    """One client (and connection pool) per process and URL: searches and handlers reuse connections."""
    return _client_for(settings.SEARCH_REDIS_URL)


@functools.lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1, decode_responses=True)


def prefix(generation: str) -> str:
    return f"s:{generation}:"


@dataclass(frozen=True)
class Document:
    """What search keeps of a product."""

    product_id: str
    seller_id: str
    name: str
    description: str
    price: Decimal
    currency: str
    category: str
    active: bool
    version: int
    created_ms: int
    attributes: dict

    def summary(self) -> str:
        return json.dumps({
            "productId": self.product_id, "sellerId": self.seller_id, "name": self.name,
            "price": f"{self.price:.2f}", "currency": self.currency, "category": self.category,
            "version": self.version,
        }, ensure_ascii=False, separators=(",", ":"))


def weights(doc: Document) -> dict[str, int]:
    """token -> relevance: name above category above description, earlier name words above later."""
    scores: dict[str, int] = {}
    for token, position in text.index_tokens(doc.name, prefixes=True).items():
        scores[token] = NAME_WEIGHT - 10 * min(position, 50)
    for token in text.index_tokens(doc.category, prefixes=True):
        scores[token] = max(scores.get(token, 0), CATEGORY_WEIGHT)
    for token, position in text.index_tokens(doc.description, prefixes=False).items():
        scores[token] = max(scores.get(token, 0), DESCRIPTION_WEIGHT - min(position, 50))
    return scores


# KEYS: none (single Redis; keys are built from the prefix). ARGV: prefix, uuid, version, seller,
# category, price cents, created ms, active, summary json, then token, score pairs.
_INDEX_PRODUCT = """
local p = ARGV[1]
local uuid = ARGV[2]
local version = tonumber(ARGV[3])
local i = redis.call('HGET', p .. 'n', uuid)
if not i then
  i = tostring(redis.call('HINCRBY', p .. 'n', 'seq', 1))
  redis.call('HSET', p .. 'n', uuid, i)
end
local d = p .. 'd:' .. i
local old = redis.call('HMGET', d, 'v', 'k', 'c', 's', 'st')
if old[1] and tonumber(old[1]) >= version then return 0 end
if old[2] and old[2] ~= '' then
  for token in string.gmatch(old[2], '[^ ]+') do redis.call('ZREM', p .. 't:' .. token, i) end
end
if old[3] then redis.call('ZREM', p .. 'c:' .. old[3], i) end
if old[4] then redis.call('ZREM', p .. 'sel:' .. old[4], i) end
redis.call('ZREM', p .. 'all', i)
local seller, category, price, created = ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
if ARGV[8] ~= '1' then
  redis.call('SREM', p .. 'in', i)
  redis.call('HSET', d, 'u', uuid, 'v', version, 'a', 0, 'k', '')
  redis.call('HDEL', d, 'c', 's', 'p', 't', 'j')
  return 1
end
local tokens = {}
for n = 10, #ARGV, 2 do
  redis.call('ZADD', p .. 't:' .. ARGV[n], ARGV[n + 1], i)
  tokens[#tokens + 1] = ARGV[n]
end
redis.call('ZADD', p .. 'all', created, i)
redis.call('ZADD', p .. 'c:' .. category, price, i)
redis.call('ZADD', p .. 'sel:' .. seller, created, i)
redis.call('HSET', d, 'u', uuid, 'v', version, 'a', 1, 'c', category, 's', seller, 'p', price, 't', created,
           'k', table.concat(tokens, ' '), 'j', ARGV[9])
if old[5] == '1' then redis.call('SADD', p .. 'in', i) end
return 1
"""

# ARGV: prefix, uuid, stock version, in stock 0/1
_SET_STOCK = """
local p = ARGV[1]
local i = redis.call('HGET', p .. 'n', ARGV[2])
if not i then
  i = tostring(redis.call('HINCRBY', p .. 'n', 'seq', 1))
  redis.call('HSET', p .. 'n', ARGV[2], i)
end
local d = p .. 'd:' .. i
local sv = redis.call('HGET', d, 'sv')
if sv and tonumber(sv) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', d, 'u', ARGV[2], 'sv', ARGV[3], 'st', ARGV[4])
if ARGV[4] == '1' and redis.call('HGET', d, 'a') == '1' then
  redis.call('SADD', p .. 'in', i)
else
  redis.call('SREM', p .. 'in', i)
end
return 1
"""


class IndexLost(RuntimeError):
    """No live generation: the index was never built, or Redis lost it."""


def live_generations(conn: redis.Redis) -> list[str]:
    """Where writes go: the live generation and, during a rebuild, the one being built."""
    live, building = conn.mget(GENERATION_KEY, BUILDING_KEY)
    return [g for g in (live, building) if g]


def index_product(doc: Document, *, generations: list[str] | None = None, conn: redis.Redis | None = None) -> None:
    conn = conn or client()
    args = [doc.product_id, doc.version, doc.seller_id, doc.category, int(doc.price * 100), doc.created_ms,
            1 if doc.active else 0, doc.summary()]
    for token, score in weights(doc).items():
        args += [token, score]
    script = conn.register_script(_INDEX_PRODUCT)
    for generation in generations if generations is not None else live_generations(conn):
        script(args=[prefix(generation), *args])


def set_in_stock(product_id: str, in_stock: bool, stock_version: int, *, generations: list[str] | None = None,
                 conn: redis.Redis | None = None) -> None:
    conn = conn or client()
    script = conn.register_script(_SET_STOCK)
    for generation in generations if generations is not None else live_generations(conn):
        script(args=[prefix(generation), product_id, stock_version, 1 if in_stock else 0])
