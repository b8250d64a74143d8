"""Answering a search: one Lua script walks the candidates and checks every condition inside Redis.

Candidates come from the smallest of the query's term lists (best first), or, with no words,
from the category (by price), the seller, or everything (newest first), at most ``SCAN_CAP`` of
them; every other term and filter is checked per candidate. Matches are sorted by a key that ends
in the product id, so it is unique and the same in every generation of the index; the cursor is
the last key returned, so pages neither skip nor repeat products when others are added or
removed between two pages.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import redis
from django.core import signing

from commerce.search import index, text
from commerce.shared.errors import ValidationFailed

SCAN_CAP = 5000
SORTS = ("relevance", "priceAsc", "priceDesc", "newest")
_CURSOR_SALT = "search.cursor"

_SEARCH = """
local p = ARGV[1]
local limit, cap, sort = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local cat, seller = ARGV[5], ARGV[6]
local minp, maxp = tonumber(ARGV[7]), tonumber(ARGV[8])
local instock = ARGV[9] == '1'
local cursor = nil
if ARGV[10] ~= '' then cursor = {tonumber(ARGV[10]), tonumber(ARGV[11]), ARGV[12]} end
local nterms = tonumber(ARGV[13])
local terms = {}
for n = 1, nterms do
  local key = p .. 't:' .. ARGV[13 + n]
  local card = redis.call('ZCARD', key)
  if card == 0 then return cjson.encode({total = 0, capped = false, items = {}, facets = {}}) end
  terms[n] = {key = key, card = card}
end
table.sort(terms, function(a, b) return a.card < b.card end)

local candidates, source_card
if nterms > 0 then
  candidates = redis.call('ZREVRANGE', terms[1].key, 0, cap - 1, 'WITHSCORES')
  source_card = terms[1].card
elseif cat ~= '' then
  local low, high = '-inf', '+inf'
  if minp then low = minp end
  if maxp then high = maxp end
  candidates = redis.call('ZRANGEBYSCORE', p .. 'c:' .. cat, low, high, 'WITHSCORES', 'LIMIT', 0, cap)
  source_card = redis.call('ZCOUNT', p .. 'c:' .. cat, low, high)
elseif seller ~= '' then
  candidates = redis.call('ZREVRANGE', p .. 'sel:' .. seller, 0, cap - 1, 'WITHSCORES')
  source_card = redis.call('ZCARD', p .. 'sel:' .. seller)
else
  candidates = redis.call('ZREVRANGE', p .. 'all', 0, cap - 1, 'WITHSCORES')
  source_card = redis.call('ZCARD', p .. 'all')
end

local matches, facets = {}, {}
for n = 1, #candidates, 2 do
  local i = candidates[n]
  local rel = 0
  if nterms > 0 then rel = tonumber(candidates[n + 1]) end
  local ok = true
  for t = 2, nterms do
    local s = redis.call('ZSCORE', terms[t].key, i)
    if not s then ok = false break end
    rel = rel + tonumber(s)
  end
  if ok then
    local f = redis.call('HMGET', p .. 'd:' .. i, 'c', 's', 'p', 't', 'u')
    local price, created = tonumber(f[3]), tonumber(f[4])
    if not f[1] then ok = false
    elseif cat ~= '' and f[1] ~= cat then ok = false
    elseif seller ~= '' and f[2] ~= seller then ok = false
    elseif minp and price < minp then ok = false
    elseif maxp and price > maxp then ok = false
    elseif instock and redis.call('SISMEMBER', p .. 'in', i) == 0 then ok = false
    end
    if ok then
      -- ties end on the product id, which is the same in every generation of the index
      local key
      if sort == 'priceAsc' then key = {price, -created, f[5]}
      elseif sort == 'priceDesc' then key = {-price, -created, f[5]}
      elseif sort == 'newest' then key = {-created, 0, f[5]}
      else key = {-rel, -created, f[5]} end
      matches[#matches + 1] = {i = i, key = key}
      facets[f[1]] = (facets[f[1]] or 0) + 1
    end
  end
end

local function before(a, b)
  for n = 1, 3 do
    if a[n] ~= b[n] then return a[n] < b[n] end
  end
  return false
end
table.sort(matches, function(a, b) return before(a.key, b.key) end)

local items, last = {}, nil
for _, m in ipairs(matches) do
  if #items >= limit then break end
  if not cursor or before(cursor, m.key) then
    items[#items + 1] = redis.call('HGET', p .. 'd:' .. m.i, 'j')
    last = m.key
  end
end
local more = false
if last then
  for n = #matches, 1, -1 do
    if before(last, matches[n].key) then more = true break end
  end
end
local facet_list = {}
for name, count in pairs(facets) do facet_list[#facet_list + 1] = {name, count} end
return cjson.encode({total = #matches, capped = source_card > cap, items = items, facets = facet_list,
                     next = more and last or false})
"""


class SearchUnavailable(RuntimeError):
    """Redis does not answer, or the index is gone (being rebuilt)."""


class IndexMissing(SearchUnavailable):
    """Redis answers but has no live index: never built, flushed, or restarted without persistence."""


@dataclass(frozen=True)
class SearchResult:
    items: list[dict]
    total: int
    total_is_lower_bound: bool
    facets: dict[str, int]
    next_cursor: str | None


def _cents(value: Decimal | None) -> str:
    return "" if value is None else str(int(value * 100))


def search(*, query: str = "", category: str = "", seller_id: str = "", min_price: Decimal | None = None,
           max_price: Decimal | None = None, in_stock: bool = False, sort: str = "relevance", limit: int = 20,
           cursor: str | None = None) -> SearchResult:
    try:
        terms = text.query_terms(query)
    except text.QueryTooLong as exc:
        raise ValidationFailed({"query": [str(exc)]}) from None
    if sort == "relevance" and not terms:
        sort = "newest"  # an empty query has no relevance: list by the chosen order, newest by default
    position = _read_cursor(cursor, sort) if cursor else ["", "", ""]
    conn = index.client()
    try:
        generation = conn.get(index.GENERATION_KEY)
        if not generation:
            raise IndexMissing("The search index is being rebuilt.")
        raw = conn.register_script(_SEARCH)(args=[
            index.prefix(generation), limit, SCAN_CAP, sort, category, seller_id, _cents(min_price),
            _cents(max_price), "1" if in_stock else "", *position, len(terms), *terms,
        ])
    except redis.RedisError as exc:
        raise SearchUnavailable("Search is unavailable right now.") from exc
    answer = json.loads(raw)
    facets = answer["facets"] if isinstance(answer["facets"], list) else []
    return SearchResult(
        items=[json.loads(item) for item in answer["items"] or []],
        total=answer["total"],
        total_is_lower_bound=bool(answer["capped"]),
        facets={name: count for name, count in sorted(facets, key=lambda f: (-f[1], f[0]))},
        next_cursor=signing.dumps([sort, *answer["next"]], salt=_CURSOR_SALT, compress=True)
        if answer.get("next") else None,
    )


def _read_cursor(cursor: str, sort: str) -> list:
    try:
        cursor_sort, *key = signing.loads(cursor, salt=_CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationFailed({"cursor": ["This cursor is not valid."]}) from None
    if cursor_sort != sort or len(key) != 3:
        raise ValidationFailed({"cursor": ["This cursor belongs to a search with another sort order."]})
    return key
