"""The search index in plain Redis structures, one generation at a time.

``search:generation`` names the live generation ``g``; everything else lives under ``s:{g}:``, so
a rebuild can fill a new generation aside and switch with one SET. A missing marker means the
index was lost (Redis restarted empty, flushed) or never built: searches answer 503 until a
rebuild sets it.

Per generation (``i`` is a small integer id per product: integer members keep sets as compact
intsets and sorted sets small):

==================  ======  ==================================================================
key                 type    holds
==================  ======  ==================================================================
``n``               hash    product uuid -> ``i``; ``seq`` hands out new ``i``
``d:{i}``           hash    ``u`` uuid, ``v`` product version, ``sv`` stock version, ``st`` in
                            stock 0/1, ``a`` active 0/1, ``c`` category, ``s`` seller, ``p``
                            price in cents, ``t`` created (ms), ``k`` its tokens, ``j`` the JSON
                            summary that results return
``m``               hash    ``i`` -> ``price|created|in stock|category`` of active products:
                            what a search checks per candidate, in one HMGET per batch
``t:{token}``       set     every active product that has the token (name, category or
                            description): exact membership and count (SCARD)
``h:{token}``       zset    the head of the token's list: at most ``HEAD`` products, the best by
                            ``relevance * 2^42 + created ms`` (relevance from ``weights``), so a
                            page of a one-word search is a range read. It is always an exact
                            prefix of the whole list in that order: a product joins it only if
                            it beats the head's last one (or the head holds the whole list).
                            Removals shrink it; a rebuild fills it again.
``f:{token}``       hash    category -> how many products of ``t:{token}`` are in it (facets)
``all``             zset    ``i`` -> created (ms): newest first, and every product for an empty query
``c:{category}``    zset    ``i`` -> price: a category by price
``cn:{category}``   zset    ``i`` -> created (ms): a category, newest first
``sel:{seller}``    zset    ``i`` -> created (ms)
``in``              set     ``i`` of active products in stock
``cnt``             hash    category -> active products; ``in:{category}`` and ``in:*`` -> of them in stock
==================  ======  ==================================================================

All writes go through Lua scripts that take a batch of products (one for an event, hundreds for a
rebuild), so each product changes atomically and an event older than the version already indexed
(product version, or stock version for stock) changes nothing. An inactive product keeps only its
``d`` hash (``a`` = 0, its version): a late older event cannot bring it back. Postings of a batch
are written grouped by token (one SADD/ZADD per token), which is what makes a rebuild fast.

The server should keep integer sets compact (``set-max-intset-entries`` above the longest list)
and product hashes as listpacks (``hash-max-listpack-value`` 1024): ``scripts/services.sh``.
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
HEAD = 1000  # products kept in order per token (h:{token})
SCORE_SHIFT = 1 << 42  # relevance * SCORE_SHIFT + created ms: exact in a double while relevance < 2^11


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


# ARGV: prefix, HEAD, SCORE_SHIFT, then per product PRODUCT_FIELDS values: uuid, version, seller,
# category, price cents, created ms, active 1/0, summary json, tokens (space-separated), their
# relevances (space-separated), stock version ('' if unknown), in stock 1/0.
# A batch holds each product at most once. Returns how many products changed.
PRODUCT_FIELDS = 12
_INDEX_PRODUCTS = """
local p, head_size, shift = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local F = 12  -- PRODUCT_FIELDS
local changed = 0
-- writes gathered over the batch and done once per key at the end
local adds, add_order = {}, {}          -- token -> {members, scores, cats}
local zadds, zadd_order = {}, {}        -- sorted set -> {score, member, ...}
local counts, in_stock, meta = {}, {}, {}

local function split(s)
  local out = {}
  if s then for w in string.gmatch(s, '[^ ]+') do out[#out + 1] = w end end
  return out
end

local function unpacked(cmd, key, list)  -- one command per 4000 arguments
  for n = 1, #list, 4000 do
    redis.call(cmd, key, unpack(list, n, math.min(n + 3999, #list)))
  end
end

local function zadd(key, score, member)
  local z = zadds[key]
  if not z then z = {}; zadds[key] = z; zadd_order[#zadd_order + 1] = key end
  z[#z + 1] = score
  z[#z + 1] = member
end

local function count(name, delta) counts[name] = (counts[name] or 0) + delta end

local function head_min(h)
  local low = redis.call('ZRANGE', h, 0, 0, 'WITHSCORES')
  return low[2] and tonumber(low[2]) or nil
end

local function trim(h)
  local size = redis.call('ZCARD', h)
  if size > head_size then redis.call('ZREMRANGEBYRANK', h, 0, size - head_size - 1) end
end

local function remove_posting(token, i, cat)
  redis.call('SREM', p .. 't:' .. token, i)
  redis.call('ZREM', p .. 'h:' .. token, i)
  if redis.call('HINCRBY', p .. 'f:' .. token, cat, -1) <= 0 then redis.call('HDEL', p .. 'f:' .. token, cat) end
end

local function queue_posting(token, i, score, cat)
  local a = adds[token]
  if not a then a = {members = {}, scores = {}, cats = {}}; adds[token] = a; add_order[#add_order + 1] = token end
  a.members[#a.members + 1] = i
  a.scores[#a.scores + 1] = score
  a.cats[cat] = (a.cats[cat] or 0) + 1
end

-- a kept token whose relevance changed: move it inside the head, or out when it may now rank
-- below products that are not in the head
local function rescore(token, i, score)
  local h = p .. 'h:' .. token
  local now = redis.call('ZSCORE', h, i)
  local complete = redis.call('ZCARD', h) == redis.call('SCARD', p .. 't:' .. token)
  if now then
    if complete or score >= tonumber(now) then redis.call('ZADD', h, score, i) else redis.call('ZREM', h, i) end
  else
    local low = head_min(h)
    if low and score > low then redis.call('ZADD', h, score, i); trim(h) end
  end
end

local function stock_flag(i, cat, old_st, st)  -- for an active product
  if old_st ~= st then
    local delta = st == '1' and 1 or -1
    count('in:' .. cat, delta)
    count('in:*', delta)
    in_stock[i] = st == '1'
  end
end

-- internal ids: one read for the batch, one counter bump and one write for the new products
local uuids = {}
for base = 4, #ARGV, F do uuids[#uuids + 1] = ARGV[base] end
local ids = redis.call('HMGET', p .. 'n', unpack(uuids))
local missing = 0
for n = 1, #uuids do if not ids[n] then missing = missing + 1 end end
local known = {}
if missing > 0 then
  local next_id = redis.call('HINCRBY', p .. 'n', 'seq', missing) - missing
  local pairs_ = {}
  for n = 1, #uuids do
    if not ids[n] then
      next_id = next_id + 1
      ids[n] = tostring(next_id)
      pairs_[#pairs_ + 1] = uuids[n]
      pairs_[#pairs_ + 1] = ids[n]
    else
      known[n] = true
    end
  end
  unpacked('HSET', p .. 'n', pairs_)
else
  for n = 1, #uuids do known[n] = true end
end

for n = 1, #uuids do
  local base = 4 + (n - 1) * F
  local uuid, version, i = uuids[n], tonumber(ARGV[base + 1]), ids[n]
  local d = p .. 'd:' .. i
  local old = {}
  if known[n] then old = redis.call('HMGET', d, 'v', 'k', 'c', 's', 'st', 'a', 'sv') end
  local st = old[5] or '0'
  local writes = {}
  -- stock first (a rebuild sends both), by its own version
  local stock_version = ARGV[base + 10]
  if stock_version ~= '' and (not old[7] or tonumber(old[7]) < tonumber(stock_version)) then
    st = ARGV[base + 11]
    writes = {'u', uuid, 'sv', stock_version, 'st', st}
    if old[6] == '1' and (old[5] or '0') ~= st then
      stock_flag(i, old[3], old[5] or '0', st)
      local f = redis.call('HMGET', d, 'p', 't')
      meta[#meta + 1] = i
      meta[#meta + 1] = f[1] .. '|' .. f[2] .. '|' .. st .. '|' .. old[3]
    end
  end
  if not old[1] or tonumber(old[1]) < version then
    changed = changed + 1
    local old_cat = old[3]
    if old[6] == '1' then  -- leave the product-level lists of the old state
      redis.call('ZREM', p .. 'all', i)
      redis.call('ZREM', p .. 'c:' .. old_cat, i)
      redis.call('ZREM', p .. 'cn:' .. old_cat, i)
      redis.call('ZREM', p .. 'sel:' .. old[4], i)
      redis.call('HDEL', p .. 'm', i)
      count(old_cat, -1)
      stock_flag(i, old_cat, st, '0')
    end
    local old_tokens = split(old[2])
    if ARGV[base + 6] ~= '1' then
      for _, token in ipairs(old_tokens) do remove_posting(token, i, old_cat) end
      redis.call('HSET', d, 'u', uuid, 'v', version, 'a', 0, 'k', '', unpack(writes))
      redis.call('HDEL', d, 'c', 's', 'p', 't', 'j')
    else
      local seller, cat, price, created = ARGV[base + 2], ARGV[base + 3], ARGV[base + 4], ARGV[base + 5]
      local tokens, rels = split(ARGV[base + 8]), split(ARGV[base + 9])
      local created_n = tonumber(created)
      if #old_tokens == 0 then
        for k, token in ipairs(tokens) do queue_posting(token, i, tonumber(rels[k]) * shift + created_n, cat) end
      else
        local new = {}
        for k, token in ipairs(tokens) do new[token] = tonumber(rels[k]) * shift + created_n end
        local kept = {}
        for _, token in ipairs(old_tokens) do
          if new[token] then kept[token] = true else remove_posting(token, i, old_cat) end
        end
        for _, token in ipairs(tokens) do
          if kept[token] then
            if old_cat ~= cat then
              if redis.call('HINCRBY', p .. 'f:' .. token, old_cat, -1) <= 0 then
                redis.call('HDEL', p .. 'f:' .. token, old_cat)
              end
              redis.call('HINCRBY', p .. 'f:' .. token, cat, 1)
            end
            rescore(token, i, new[token])
          else
            queue_posting(token, i, new[token], cat)
          end
        end
      end
      zadd(p .. 'all', created, i)
      zadd(p .. 'c:' .. cat, price, i)
      zadd(p .. 'cn:' .. cat, created, i)
      zadd(p .. 'sel:' .. seller, created, i)
      count(cat, 1)
      stock_flag(i, cat, '0', st)
      meta[#meta + 1] = i
      meta[#meta + 1] = price .. '|' .. created .. '|' .. st .. '|' .. cat
      redis.call('HSET', d, 'u', uuid, 'v', version, 'a', 1, 'c', cat, 's', seller, 'p', price, 't', created,
                 'k', ARGV[base + 8], 'j', ARGV[base + 7], 'st', st, unpack(writes))
    end
  elseif #writes > 0 then
    redis.call('HSET', d, unpack(writes))
  end
end

for _, key in ipairs(zadd_order) do unpacked('ZADD', key, zadds[key]) end
if #meta > 0 then unpacked('HSET', p .. 'm', meta) end
local added, removed = {}, {}
for i, yes in pairs(in_stock) do if yes then added[#added + 1] = i else removed[#removed + 1] = i end end
if #added > 0 then unpacked('SADD', p .. 'in', added) end
if #removed > 0 then unpacked('SREM', p .. 'in', removed) end
for name, delta in pairs(counts) do
  if delta ~= 0 then redis.call('HINCRBY', p .. 'cnt', name, delta) end
end

-- new postings, one set and one head write per token
for _, token in ipairs(add_order) do
  local a = adds[token]
  local t, h = p .. 't:' .. token, p .. 'h:' .. token
  local before = redis.call('SCARD', t)
  local in_head = redis.call('ZCARD', h)
  unpacked('SADD', t, a.members)
  for cat, n in pairs(a.cats) do redis.call('HINCRBY', p .. 'f:' .. token, cat, n) end
  local low = nil
  if not (in_head == before and in_head < head_size) and in_head > 0 then low = head_min(h) end
  local pairs_ = {}
  for n, member in ipairs(a.members) do
    if not low or a.scores[n] > low then
      pairs_[#pairs_ + 1] = a.scores[n]
      pairs_[#pairs_ + 1] = member
    end
  end
  if #pairs_ > 0 then
    unpacked('ZADD', h, pairs_)
    if in_head + #pairs_ / 2 > head_size then trim(h) end
  end
end
return changed
"""

# ARGV: prefix, then per product: uuid, stock version, in stock 1/0
_SET_STOCK = """
local p = ARGV[1]
local changed = 0
for base = 2, #ARGV, 3 do
  local uuid, version, st = ARGV[base], ARGV[base + 1], ARGV[base + 2]
  local i = redis.call('HGET', p .. 'n', uuid)
  if not i then
    i = tostring(redis.call('HINCRBY', p .. 'n', 'seq', 1))
    redis.call('HSET', p .. 'n', uuid, i)
  end
  local d = p .. 'd:' .. i
  local f = redis.call('HMGET', d, 'sv', 'st', 'a', 'c', 'p', 't')
  if not f[1] or tonumber(f[1]) < tonumber(version) then
    changed = changed + 1
    redis.call('HSET', d, 'u', uuid, 'sv', version, 'st', st)
    if f[3] == '1' and (f[2] or '0') ~= st then
      local delta = st == '1' and 1 or -1
      if st == '1' then redis.call('SADD', p .. 'in', i) else redis.call('SREM', p .. 'in', i) end
      redis.call('HINCRBY', p .. 'cnt', 'in:' .. f[4], delta)
      redis.call('HINCRBY', p .. 'cnt', 'in:*', delta)
      redis.call('HSET', p .. 'm', i, f[5] .. '|' .. f[6] .. '|' .. st .. '|' .. f[4])
    end
  end
end
return changed
"""


class IndexLost(RuntimeError):
    """No live generation: the index was never built, or Redis lost it."""


def live_generations(conn: redis.Redis) -> list[str]:
    """Where writes go: the live generation and, during a rebuild, the one being built."""
    live, building = conn.mget(GENERATION_KEY, BUILDING_KEY)
    return [g for g in (live, building) if g]


def product_args(doc: Document, stock: tuple[int, bool] | None = None) -> list:
    """The PRODUCT_FIELDS script arguments of one product (and its stock, when known)."""
    scores = weights(doc) if doc.active else {}
    return [doc.product_id, doc.version, doc.seller_id, doc.category, int(doc.price * 100), doc.created_ms,
            1 if doc.active else 0, doc.summary(), " ".join(scores), " ".join(map(str, scores.values())),
            "" if stock is None else stock[0], "" if stock is None else (1 if stock[1] else 0)]


def index_products_args(conn: redis.Redis, generation: str, args: list) -> int:
    """Run the index script for products already turned into arguments (``product_args``)."""
    return conn.register_script(_INDEX_PRODUCTS)(args=[prefix(generation), HEAD, SCORE_SHIFT, *args])


def index_product(doc: Document, *, generations: list[str] | None = None, conn: redis.Redis | None = None) -> None:
    conn = conn or client()
    args = product_args(doc)
    for generation in generations if generations is not None else live_generations(conn):
        index_products_args(conn, generation, args)


def set_in_stock(product_id: str, in_stock: bool, stock_version: int, *, generations: list[str] | None = None,
                 conn: redis.Redis | None = None) -> None:
    conn = conn or client()
    script = conn.register_script(_SET_STOCK)
    for generation in generations if generations is not None else live_generations(conn):
        script(args=[prefix(generation), product_id, stock_version, 1 if in_stock else 0])

