"""Search text handling: how text is normalised, which tokens a field stores in the index, and which
terms a query asks for. Pure stdlib, so the index builder, the query side and the tests share one truth.

Normalisation (``normalize``)
    NFKC, casefold, NFKC again (casefolding can leave non-NFKC text), so full-width "ＢＬＵＥ" is "blue"
    and Hangul typed as decomposed jamo (NFD) equals the composed syllables. Letters, digits and
    combining marks of any script are word characters; everything else separates words
    ("USB-C" -> "usb c"), with three exceptions that keep one thing one word:
      - a comma between digits is a thousands separator and is dropped: "1,000" -> "1000";
      - a full stop between digits is a decimal point and is kept: "2.4GHz" -> "2.4ghz"
        (so "2.4" and "2.4g" find it as prefixes; "4ghz" does not);
      - an apostrophe (' or ’) between letters is dropped: "Levi's" -> "levis".
    Whitespace is collapsed and the result stripped.

Script runs (``script_runs``)
    A word is cut where it changes between Hangul syllables (U+AC00..U+D7A3) and anything else:
    "갤럭시s24" -> "갤럭시", "s24". Both runs are indexed and queried on their own, so "갤럭시 s24",
    "갤럭시S24" and "s24 갤럭시" are the same query. Non-Hangul runs (Latin, digits, other scripts,
    leftover jamo) all follow the "other" rules below.

Tokens stored for a field (``index_tokens``), token -> 0-based index of the first word it came from
    Other runs: the run cut to MAX_TOKEN_LEN characters; with ``prefixes=True`` also each of its
    prefixes of MIN_PREFIX or more characters (not ending in a decimal point).
    Hangul runs: every syllable bigram ("무선이어폰" -> 무선, 선이, 이어, 어폰); a one-syllable run
    stores its syllable. With ``prefixes=True`` also the first syllable of every run, and one bigram
    across each pair of neighbouring words where the first ends and the second starts in Hangul
    ("무선 이어폰" also stores 선이), because Korean spacing varies ("무선이어폰" vs "무선 이어폰").
    ``prefixes=True`` is for short fields (names, categories); descriptions use ``prefixes=False``,
    which keeps whole non-Hangul runs and Hangul bigrams only. Tokens are de-duplicated per field.
    No whole Hangul run longer than one syllable is stored: no query term ever asks for one.

Terms of a query (``query_terms``), all of which must be present (AND), de-duplicated, in order
    Other run: the run cut to MAX_TOKEN_LEN; it matches a stored whole run or prefix.
    Hangul run of two or more syllables: each of its bigrams ("이어폰" -> 이어, 어폰).
    Hangul run of one syllable: the syllable. It finds one-syllable words in any field and words that
    start with it in names and categories ("무" finds "무선"), never a syllable inside a word
    ("폰" does not find "이어폰"): storing every syllable would double the Hangul postings for
    lists that would hold most of the catalogue anyway.

The property the index relies on, for a name (or category) N and a query Q:
    if every run of every normalised word of Q is
      - a non-Hangul run of N, or a prefix of one with at least MIN_PREFIX characters
        (compared after both are cut to MAX_TOKEN_LEN), or
      - a substring of at least two syllables of a Hangul run of N, or of two neighbouring Hangul
        words of N written together, or
      - the first syllable of a Hangul run of N, or a one-syllable Hangul run of N,
    then set(query_terms(Q)) <= set(index_tokens(N, prefixes=True)).

What matches although it should not (ranking has to push these down):
    - bigrams are checked as a set, not in sequence: "수박스" (수박, 박스) matches "수박 박스";
    - the bigram across a word gap is a real token: "선이" matches "무선 이어폰";
    - a query word longer than MAX_TOKEN_LEN only compares its first MAX_TOKEN_LEN characters.
What does not match although a user might expect it:
    - a one-character non-Hangul run only finds that exact one-character word: "갤럭시s" does not
      find "갤럭시S24", "c" finds "USB-C";
    - a non-Hangul run of N is found by prefix only, never from the middle ("tooth" vs "bluetooth"),
      and other scripts written without spaces (Chinese, Japanese) are long runs found by prefix only.
"""
from __future__ import annotations

import functools
import unicodedata
from itertools import groupby

MIN_PREFIX = 2
MAX_TOKEN_LEN = 20
MAX_QUERY_WORDS = 8
MAX_WORD_LEN = 30
# Checked before normalising, so a huge request body costs nothing; generous enough for
# MAX_QUERY_WORDS words of MAX_WORD_LEN syllables typed as decomposed jamo.
MAX_QUERY_CHARS = 1000

_APOSTROPHES = frozenset("'\u2019")


class QueryTooLong(ValueError):
    """A query beyond the search bounds; the HTTP layer answers 400 with the message."""


class QueryTextTooLong(QueryTooLong):
    pass


class TooManyQueryWords(QueryTooLong):
    pass


class QueryWordTooLong(QueryTooLong):
    pass


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    last = len(text) - 1
    kept: list[str] = []
    for index, char in enumerate(text):
        if unicodedata.category(char)[0] in "LNM":
            kept.append(char)
            continue
        before = text[index - 1] if index > 0 else ""
        after = text[index + 1] if index < last else ""
        if char == "," and before.isdigit() and after.isdigit():
            continue
        if char == "." and before.isdigit() and after.isdigit():
            kept.append(char)
        elif char in _APOSTROPHES and before.isalpha() and after.isalpha():
            continue
        else:
            kept.append(" ")
    return " ".join("".join(kept).split())


def words(text: str) -> list[str]:
    return normalize(text).split()


def is_hangul_syllable(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def script_runs(word: str) -> list[str]:
    """Cut a normalised word into Hangul-syllable runs and other runs: "갤럭시s24" -> ["갤럭시", "s24"]."""
    return ["".join(run) for _, run in groupby(word, key=is_hangul_syllable)]


def _bigrams(run: str) -> list[str]:
    return [run[index:index + 2] for index in range(len(run) - 1)]


def _run_tokens(run: str, *, prefixes: bool) -> list[str]:
    if is_hangul_syllable(run[0]):
        if len(run) == 1:
            return [run]
        return ([run[0]] if prefixes else []) + _bigrams(run)
    run = run[:MAX_TOKEN_LEN]
    tokens = [run]
    if prefixes:
        tokens += [run[:end] for end in range(MIN_PREFIX, len(run)) if run[end - 1] != "."]
    return tokens


@functools.lru_cache(maxsize=100_000)
def _word_tokens(word: str, prefixes: bool) -> tuple[str, ...]:
    """The tokens of one normalised word, in order (words repeat a lot: a rebuild asks for each often)."""
    return tuple(token for run in script_runs(word) for token in _run_tokens(run, prefixes=prefixes))


def index_tokens(text: str, *, prefixes: bool) -> dict[str, int]:
    """The tokens to store for one field, each with the index of the first word it came from."""
    tokens: dict[str, int] = {}
    previous_hangul_tail = ""
    for position, word in enumerate(words(text)):
        if prefixes:
            if previous_hangul_tail and is_hangul_syllable(word[0]):
                tokens.setdefault(previous_hangul_tail + word[0], position - 1)
            previous_hangul_tail = word[-1] if is_hangul_syllable(word[-1]) else ""
        for token in _word_tokens(word, prefixes):
            tokens.setdefault(token, position)
    return tokens


def check_query(text: str) -> list[str]:
    """The normalised words of a query, or a QueryTooLong saying which bound it breaks."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryTextTooLong(f"A search query may be at most {MAX_QUERY_CHARS} characters long.")
    query_words = words(text)
    if len(query_words) > MAX_QUERY_WORDS:
        raise TooManyQueryWords(
            f"A search query may have at most {MAX_QUERY_WORDS} words; this one has {len(query_words)}."
        )
    for word in query_words:
        if len(word) > MAX_WORD_LEN:
            raise QueryWordTooLong(f"Search words may be at most {MAX_WORD_LEN} characters long: {word[:40]!r}.")
    return query_words


def query_terms(text: str) -> list[str]:
    """The terms that must all be stored for a document to match the query (raises QueryTooLong)."""
    terms: dict[str, None] = {}
    for word in check_query(text):
        for run in script_runs(word):
            if not is_hangul_syllable(run[0]):
                terms[run[:MAX_TOKEN_LEN]] = None
            elif len(run) == 1:
                terms[run] = None
            else:
                terms.update(dict.fromkeys(_bigrams(run)))
    return list(terms)
