"""Answering a search: one Lua script per search, which reads ranges where it can and checks
candidates in batches where it must.

- One term, relevance, no filter (most one-word and prefix searches): the page is a range of the
  term's head (``h:{token}``, already in result order), the total is ``SCARD`` and the facets are
  the token's category counters. Exact; pages reach as deep as the head (``index.HEAD`` products).
- No words, a category (browse), sorted by price or newest: a range of ``c:{category}`` or
  ``cn:{category}``, read in chunks until the page is complete (ties on the price are put in
  order); totals from counters.
- Everything else (several terms, filters with words, a price sort of words): the candidates are
  the head of the rarest term (at most ``index.HEAD``); the other terms and the filters are
  checked a batch at a time (SMISMEMBER, HMGET), and a bounded top-k keeps the page.
  ``totalIsLowerBound`` says when the rarest term had more products than were checked.

Every order ends in the product's internal id, so keys are unique; the cursor is the last key
returned, so pages neither skip nor repeat products when others are added or removed between two
pages.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from decimal import Decimal

import redis
from django.core import signing

from commerce.search import index, text
from commerce.shared.errors import ValidationFailed

# candidates of the rarest term's head checked when a search cannot be read as a range (relevance
# stops sooner once it has two pages of matches)
SCAN_WINDOW = 300
STREAM_CAP = 20_000  # at most this many entries read for one ordered page (long runs of equal prices)
# when the head's candidates give less than a page, the whole sets are intersected (exact) if the
# rarest has at most this many products
EXACT_LIMIT = 20_000
EXACT_CHECKED = 300  # of the intersection, at most this many are ranked (the count stays exact without filters)
SORTS = ("relevance", "priceAsc", "priceDesc", "newest")
_CURSOR_SALT = "search.cursor"

# ARGV: the generation key, limit, scan cap, stream cap, score shift, exact limit, sort, category,
# seller, min cents, max cents, in stock '1'/'', cursor k1, k2, k3 ('' for none), number of terms, terms...
# Returns {items joined by ',', total, lower bound 0/1, facets json object, next k1, k2, k3 or ''};
# nil when there is no live generation.
_SEARCH = """
local generation = redis.call('GET', ARGV[1])
if not generation then return false end
local p = 's:' .. generation .. ':'
local limit, cap, stream_cap, shift = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local exact_limit, exact_checked = tonumber(ARGV[6]), {EXACT_CHECKED}
local sort, cat, seller = ARGV[7], ARGV[8], ARGV[9]
local minp, maxp = tonumber(ARGV[10]), tonumber(ARGV[11])
local instock = ARGV[12] == '1'
local c1, c2, c3 = tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15])
local nterms = tonumber(ARGV[16])
local want = limit + 1
local filtered = cat ~= '' or seller ~= '' or minp ~= nil or maxp ~= nil or instock

-- the page: the best `want` keys after the cursor, kept sorted (bounded insertion)
local top = {}
local function better(a1, a2, a3, b1, b2, b3)
  if a1 ~= b1 then return a1 < b1 end
  if a2 ~= b2 then return a2 < b2 end
  return a3 < b3
end
local function offer(k1, k2, k3, i)
  if c1 and not better(c1, c2, c3, k1, k2, k3) then return false end
  local n = #top
  if n >= want then
    local w = top[n]
    if not better(k1, k2, k3, w[1], w[2], w[3]) then return true end
    top[n] = nil
    n = n - 1
  end
  local pos = n + 1
  while pos > 1 do
    local o = top[pos - 1]
    if better(k1, k2, k3, o[1], o[2], o[3]) then top[pos] = o; pos = pos - 1 else break end
  end
  top[pos] = {k1, k2, k3, i}
  return true
end
local function key(rel, created, price, i)
  if sort == 'priceAsc' then return price, -created, -i
  elseif sort == 'priceDesc' then return -price, -created, -i
  elseif sort == 'newest' then return -created, -i, 0 end
  return -rel, -created, -i
end
local function meta(ids)  -- price, created, in stock, category per id (nil when not active)
  local out = {}
  if #ids == 0 then return out end
  local raw = redis.call('HMGET', p .. 'm', unpack(ids))
  for n = 1, #ids do
    local v = raw[n]
    if v then
      local price, created, st, c = string.match(v, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
      out[n] = {tonumber(price), tonumber(created), st == '1', c}
    else
      out[n] = false
    end
  end
  return out
end
local function passes(m)
  if not m then return false end
  if cat ~= '' and m[4] ~= cat then return false end
  if minp and m[1] < minp then return false end
  if maxp and m[1] > maxp then return false end
  if instock and not m[3] then return false end
  return true
end

local total, lower, facets_json = 0, false, nil
local facets = {}

local function finish()
  local items = {}
  local n = math.min(#top, limit)
  for k = 1, n do items[k] = redis.call('HGET', p .. 'd:' .. top[k][4], 'j') end
  local nk1, nk2, nk3 = '', '', ''
  if #top > limit then
    nk1, nk2, nk3 = string.format('%d', top[n][1]), string.format('%d', top[n][2]), string.format('%d', top[n][3])
  end
  if not facets_json then
    local list = {}
    for name, count in pairs(facets) do if count > 0 then list[#list + 1] = {name, count} end end
    table.sort(list, function(a, b) if a[2] ~= b[2] then return a[2] > b[2] end return a[1] < b[1] end)
    local parts = {}
    for k, f in ipairs(list) do parts[k] = cjson.encode(f[1]) .. ':' .. f[2] end
    facets_json = '{' .. table.concat(parts, ',') .. '}'
  end
  return {table.concat(items, ','), total, lower and 1 or 0, facets_json, nk1, nk2, nk3}
end

-- read a sorted set in order from `start` (the cursor's score, inclusive) until the page is
-- complete: `want` accepted entries and every entry tied with the last of them in the set's order
local function stream(zkey, desc, low, high, start, accept)
  local from, to = low, high
  if start then if desc then to = start else from = start end end
  local offset, chunk, read, accepted, boundary = 0, want + 10, 0, 0, nil
  while read < stream_cap do
    local got
    if desc then
      got = redis.call('ZREVRANGEBYSCORE', zkey, to, from, 'WITHSCORES', 'LIMIT', offset, chunk)
    else
      got = redis.call('ZRANGEBYSCORE', zkey, from, to, 'WITHSCORES', 'LIMIT', offset, chunk)
    end
    local ids, scores = {}, {}
    for n = 1, #got, 2 do ids[#ids + 1] = got[n]; scores[#scores + 1] = tonumber(got[n + 1]) end
    local ok = accept(ids, scores)
    for n = 1, #ids do
      if boundary then
        if scores[n] ~= boundary then return end
      elseif ok[n] then
        accepted = accepted + 1
        if accepted >= want then boundary = scores[n] end
      end
    end
    if #ids < chunk then return end
    read = read + #ids
    offset = offset + #ids
    chunk = chunk * 2
  end
end

-- offer every entry that passes the filters; ok[n] says whether it was a candidate for the page
local function offer_all(ids, ms, rel)
  local ok = {}
  for n = 1, #ids do
    local m = ms[n]
    if passes(m) then
      local k1, k2, k3 = key(rel and rel[n] or 0, m[2], m[1], tonumber(ids[n]))
      ok[n] = offer(k1, k2, k3, ids[n])
    else
      ok[n] = false
    end
  end
  return ok
end

local terms = {}
for n = 1, nterms do
  local token = ARGV[16 + n]
  local size = redis.call('SCARD', p .. 't:' .. token)
  if size == 0 then return finish() end
  terms[n] = {t = p .. 't:' .. token, h = p .. 'h:' .. token, f = p .. 'f:' .. token, size = size}
end
table.sort(terms, function(a, b) return a.size < b.size end)

if nterms == 1 and sort == 'relevance' and not filtered then
  -- the head is in result order
  local term = terms[1]
  total = term.size
  local counts = redis.call('HGETALL', term.f)
  for n = 1, #counts, 2 do facets[counts[n]] = tonumber(counts[n + 1]) end
  local start = nil
  if c1 then start = -c1 * shift - c2 end
  stream(term.h, true, '-inf', '+inf', start, function(ids, scores)
    local ok = {}
    for n = 1, #ids do
      local rel = math.floor(scores[n] / shift)
      ok[n] = offer(-rel, -(scores[n] - rel * shift), -tonumber(ids[n]), ids[n])
    end
    return ok
  end)
  return finish()
end

local ranged = minp ~= nil or maxp ~= nil
local function accept_meta(ids) return offer_all(ids, meta(ids)) end

if nterms == 0 and cat ~= '' and seller == '' and not (ranged and (instock or sort == 'newest')) then
  -- browse a category: its lists are in price or creation order; totals from counters
  local low, high = minp or '-inf', maxp or '+inf'
  if ranged then
    total = redis.call('ZCOUNT', p .. 'c:' .. cat, low, high)
  else
    local counts = redis.call('HMGET', p .. 'cnt', cat, 'in:' .. cat)
    total = tonumber((instock and counts[2]) or counts[1]) or 0
  end
  if sort == 'newest' and not ranged then
    stream(p .. 'cn:' .. cat, true, '-inf', '+inf', c1 and -c1 or nil, accept_meta)
  elseif sort == 'priceAsc' then
    stream(p .. 'c:' .. cat, false, low, high, c1, accept_meta)
  else
    stream(p .. 'c:' .. cat, true, low, high, c1 and -c1 or nil, accept_meta)
  end
  if total > 0 then facets[cat] = total end
  return finish()
end

if nterms == 0 and cat == '' and seller == '' and sort == 'newest' and not ranged then
  -- everything, newest first; totals and facets from the counters
  local counts = redis.call('HGETALL', p .. 'cnt')
  for n = 1, #counts, 2 do
    local name, count = counts[n], tonumber(counts[n + 1])
    local stocked = string.sub(name, 1, 3) == 'in:'
    if instock and stocked and name ~= 'in:*' then facets[string.sub(name, 4)] = count
    elseif not instock and not stocked then facets[name] = count end
  end
  if instock then total = tonumber(redis.call('HGET', p .. 'cnt', 'in:*')) or 0
  else total = redis.call('ZCARD', p .. 'all') end
  stream(p .. 'all', true, '-inf', '+inf', c1 and -c1 or nil, accept_meta)
  return finish()
end

-- the rest: candidates from one list, checked a batch at a time. With words: the rarest term's
-- head, best first, in chunks; every other term, the category and the stock are checked with one
-- SMISMEMBER or ZMSCORE per chunk over the candidates left. A relevance search stops once it
-- has a few pages' worth of matches; other orders check up to `cap` candidates.
local function keep(ids, flags)
  local kept = {}
  for n = 1, #ids do
    local f = flags[n]
    if f and f ~= 0 then kept[#kept + 1] = ids[n] end
  end
  return kept
end

local floor_rel = {}
local function check(ids, matched)  -- matched: the terms are known to match
  for t = matched and nterms + 1 or 2, nterms do
    if #ids == 0 then return end
    ids = keep(ids, redis.call('SMISMEMBER', terms[t].t, unpack(ids)))
  end
  if cat ~= '' and #ids > 0 then ids = keep(ids, redis.call('ZMSCORE', p .. 'c:' .. cat, unpack(ids))) end
  if instock and #ids > 0 then ids = keep(ids, redis.call('SMISMEMBER', p .. 'in', unpack(ids))) end
  if #ids == 0 then return end
  -- relevance: the sum over the terms, from their heads (a product beyond a term's head gets the
  -- head's lowest relevance, which it cannot exceed)
  local rel = {}
  for n = 1, #ids do rel[n] = 0 end
  if sort == 'relevance' then
    for t = 1, nterms do
      local term = terms[t]
      local s = redis.call('ZMSCORE', term.h, unpack(ids))
      for n = 1, #ids do
        if s[n] then
          rel[n] = rel[n] + math.floor(tonumber(s[n]) / shift)
        else
          if not floor_rel[t] then
            local low = redis.call('ZRANGE', term.h, 0, 0, 'WITHSCORES')
            floor_rel[t] = low[2] and math.floor(tonumber(low[2]) / shift) or 0
          end
          rel[n] = rel[n] + floor_rel[t]
        end
      end
    end
  end
  local sellers = nil
  if seller ~= '' and nterms > 0 then sellers = redis.call('ZMSCORE', p .. 'sel:' .. seller, unpack(ids)) end
  local ms = meta(ids)
  for n = 1, #ids do
    local m = ms[n]
    if passes(m) and (not sellers or sellers[n]) then
      total = total + 1
      facets[m[4]] = (facets[m[4]] or 0) + 1
      local k1, k2, k3 = key(rel[n], m[2], m[1], tonumber(ids[n]))
      offer(k1, k2, k3, ids[n])
    end
  end
end

if nterms > 0 then
  local read, chunk, size = 0, 64, redis.call('ZCARD', terms[1].h)
  while read < cap and read < size do
    local ids = redis.call('ZREVRANGE', terms[1].h, read, math.min(read + chunk, cap) - 1)
    read = read + #ids
    check(ids)
    if #ids < chunk or (sort == 'relevance' and total >= 2 * want) then break end
    chunk = chunk * 2
  end
  lower = terms[1].size > read
  if lower and total < want and nterms > 1 and terms[1].size <= exact_limit then
    -- less than a page among the best of the rarest term: intersect the whole sets instead (in C)
    local keys = {}
    for t = 1, nterms do keys[t] = terms[t].t end
    local ids = redis.call('SINTER', unpack(keys))
    top, total, facets = {}, 0, {}
    local checked = {}
    for n = 1, math.min(#ids, exact_checked) do checked[n] = ids[n] end
    check(checked, true)
    lower = #ids > exact_checked
    if lower and not filtered then total = #ids end
  end
else
  local source
  if seller ~= '' then source = p .. 'sel:' .. seller
  elseif cat ~= '' then source = p .. 'cn:' .. cat
  else source = p .. 'all' end
  local ids = redis.call('ZREVRANGE', source, 0, cap - 1)
  lower = redis.call('ZCARD', source) > #ids
  check(ids)
end
return finish()
""".replace("{EXACT_CHECKED}", str(EXACT_CHECKED))


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


@functools.lru_cache(maxsize=4)
def _script(conn: redis.Redis):
    return conn.register_script(_SEARCH)


def _cents(value: Decimal | None) -> str:
    return "" if value is None else str(int(value * 100))


def _run(*, query: str, category: str, seller_id: str, min_price: Decimal | None, max_price: Decimal | None,
         in_stock: bool, sort: str, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """The script's answer and the signed cursor of the next page."""
    try:
        terms = text.query_terms(query)
    except text.QueryTooLong as exc:
        raise ValidationFailed({"query": [str(exc)]}) from None
    if sort == "relevance" and not terms:
        sort = "newest"  # an empty query has no relevance: list by the chosen order, newest by default
    position = _read_cursor(cursor, sort) if cursor else ["", "", ""]
    conn = index.client()
    try:
        answer = _script(conn)(args=[
            index.GENERATION_KEY, limit, SCAN_WINDOW, STREAM_CAP,
            index.SCORE_SHIFT, EXACT_LIMIT, sort, category, seller_id, _cents(min_price), _cents(max_price),
            "1" if in_stock else "", *position, len(terms), *terms,
        ])
    except redis.RedisError as exc:
        raise SearchUnavailable("Search is unavailable right now.") from exc
    if answer is None:
        raise IndexMissing("The search index is being rebuilt.")
    next_key = answer[4:7]
    next_cursor = signing.dumps([sort, *map(int, next_key)], salt=_CURSOR_SALT, compress=True) if next_key[0] else None
    return answer, next_cursor


def search(*, query: str = "", category: str = "", seller_id: str = "", min_price: Decimal | None = None,
           max_price: Decimal | None = None, in_stock: bool = False, sort: str = "relevance", limit: int = 20,
           cursor: str | None = None) -> SearchResult:
    answer, next_cursor = _run(query=query, category=category, seller_id=seller_id, min_price=min_price,
                               max_price=max_price, in_stock=in_stock, sort=sort, limit=limit, cursor=cursor)
    return SearchResult(
        items=json.loads(f"[{answer[0]}]"),
        total=int(answer[1]),
        total_is_lower_bound=bool(int(answer[2])),
        facets=json.loads(answer[3]),
        next_cursor=next_cursor,
    )


def search_json(**criteria) -> bytes:
    """The HTTP answer of ``search`` (same arguments), built from the JSON the index stores: the
    summaries are spliced in as they are, not decoded and encoded again."""
    answer, next_cursor = _run(**criteria)
    return (f'{{"items":[{answer[0]}],"total":{int(answer[1])},'
            f'"totalIsLowerBound":{"true" if int(answer[2]) else "false"},'
            f'"nextCursor":{json.dumps(next_cursor)},"facets":{{"category":{answer[3]}}}}}').encode()


def _read_cursor(cursor: str, sort: str) -> list:
    try:
        cursor_sort, *key = signing.loads(cursor, salt=_CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationFailed({"cursor": ["This cursor is not valid."]}) from None
    if cursor_sort != sort or len(key) != 3 or not all(isinstance(k, int) for k in key):
        raise ValidationFailed({"cursor": ["This cursor belongs to a search with another sort order."]})
    return key
