"""Search text rules: normalisation, the tokens a field stores and the terms a query asks for."""
import random
import unicodedata

import pytest

from commerce.search.text import (
    MAX_QUERY_CHARS,
    MAX_QUERY_WORDS,
    MAX_TOKEN_LEN,
    MAX_WORD_LEN,
    QueryTooLong,
    QueryWordTooLong,
    TooManyQueryWords,
    check_query,
    index_tokens,
    is_hangul_syllable,
    normalize,
    query_terms,
    script_runs,
    words,
)


def matches(query: str, name: str) -> bool:
    return set(query_terms(query)) <= set(index_tokens(name, prefixes=True))


def matches_description(query: str, description: str) -> bool:
    return set(query_terms(query)) <= set(index_tokens(description, prefixes=False))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Wireless   BLUETOOTH\tSpeaker ", "wireless bluetooth speaker"),
        ("ＢＬＵＥ", "blue"),
        ("Straße", "strasse"),
        ("USB-C", "usb c"),
        ("1,000원", "1000원"),
        ("2.4GHz.", "2.4ghz"),
        ("Levi's / Levi’s", "levis levis"),
        ("(새상품) 무선·이어폰!", "새상품 무선 이어폰"),
        (unicodedata.normalize("NFD", "무선 이어폰"), "무선 이어폰"),
        ("", ""),
    ],
)
def test_normalize_folds_case_width_and_punctuation(text, expected):
    assert normalize(text) == expected


def test_words_are_cut_into_hangul_and_other_script_runs():
    assert words("갤럭시S24 울트라") == ["갤럭시s24", "울트라"]
    assert script_runs("갤럭시s24") == ["갤럭시", "s24"]
    assert script_runs("버즈2프로") == ["버즈", "2", "프로"]


@pytest.mark.parametrize("query", ["blue", "BLUETOOTH", "ＢＬＵＥ", "bl", "speaker blue", "Blue SPEAK"])
def test_latin_words_and_their_prefixes_match_whatever_the_case_or_width(query):
    assert matches(query, "Bluetooth Speaker")


@pytest.mark.parametrize("query", ["speaker red", "xyz", "tooth", "bluetooths", "b"])
def test_every_query_word_must_match_from_the_start_of_a_word(query):
    assert not matches(query, "Bluetooth Speaker")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("무선 이어", "무선 이어폰"),
        ("이어폰", "무선이어폰"),
        ("선이어", "무선이어폰"),
        ("무선이어폰", "무선 이어폰"),
        ("무선이어폰", "무선이어폰"),
        ("무", "무선 이어폰"),
        ("이", "무선 이어폰"),
        ("새", "새 무선 이어폰"),
    ],
)
def test_hangul_matches_by_syllable_bigrams_whatever_the_spacing(query, name):
    assert matches(query, name)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("이어", "무선 헤드폰"),
        ("폰", "무선 이어폰"),  # one syllable finds word starts and one-syllable words only
        ("이어폰 케이스", "무선 이어폰"),
        ("헤드폰", "무선 이어폰"),
    ],
)
def test_hangul_queries_that_must_not_match(query, name):
    assert not matches(query, name)


def test_decomposed_hangul_in_the_query_matches_composed_names():
    decomposed = unicodedata.normalize("NFD", "이어폰")
    assert decomposed != "이어폰"

    assert matches(decomposed, "무선이어폰")
    assert query_terms(decomposed) == ["이어", "어폰"]


@pytest.mark.parametrize("query", ["갤럭시 s24", "갤럭시s24", "S24 갤럭시", "s2", "갤럭 울트", "갤럭시s2 울트라"])
def test_words_mixing_hangul_and_latin_are_searchable_by_each_part(query):
    assert matches(query, "갤럭시S24 울트라")


def test_a_one_character_latin_query_matches_only_a_whole_one_character_word():
    assert not matches("갤럭시s", "갤럭시S24")
    assert matches("usb c", "USB-C 충전기")


def test_decimal_numbers_stay_one_word_and_are_found_by_prefix():
    assert matches("2.4", "2.4GHz 무선 마우스")
    assert matches("2.4ghz", "2.4GHz 무선 마우스")
    assert not matches("4ghz", "2.4GHz 무선 마우스")


def test_descriptions_store_whole_words_without_prefixes():
    description = "Pairs over Bluetooth in seconds."

    assert matches_description("bluetooth", description)
    assert not matches_description("blue", description)
    assert matches_description("이어폰", "노이즈 캔슬링 무선이어폰입니다")  # Hangul bigrams match inside words


def test_descriptions_store_no_word_starts_or_bigrams_across_words():
    tokens = index_tokens("무선 이어폰", prefixes=False)

    assert set(tokens) == {"무선", "이어", "어폰"}


def test_tokens_carry_the_index_of_the_first_word_they_came_from():
    tokens = index_tokens("Wireless Bluetooth Speaker, bluetooth 5.3", prefixes=True)

    assert tokens["bluetooth"] == 1
    assert tokens["blue"] == 1
    assert tokens["wireless"] == 0
    assert tokens["5.3"] == 4
    assert index_tokens("무선 이어폰", prefixes=True)["선이"] == 0


def test_tokens_are_unique_and_capped_in_length():
    long_word = "a" * 50
    tokens = index_tokens(f"{long_word} {long_word} Speaker speaker", prefixes=True)

    assert max(len(token) for token in tokens) == MAX_TOKEN_LEN
    assert "a" * MAX_TOKEN_LEN in tokens
    assert matches("a" * MAX_WORD_LEN, long_word)


@pytest.mark.parametrize(
    ("name", "budget"),
    [
        ("삼성전자 갤럭시 버즈2 프로 무선 블루투스 이어폰 노이즈캔슬링 SM-R510 그라파이트", 60),
        ("Apple 에어팟 프로 2세대 USB-C 맥세이프 충전 케이스 MagSafe 무선 이어폰", 60),
        ("Wireless Bluetooth Speaker", 30),
    ],
)
def test_a_realistic_name_stays_within_its_token_budget(name, budget):
    count = len(index_tokens(name, prefixes=True))

    assert count <= budget, f"{count} tokens for {name!r}"


@pytest.mark.parametrize("query", ["", "   ", "-- / !!"])
def test_an_empty_query_has_no_terms(query):
    assert query_terms(query) == []


def test_query_terms_are_deduplicated_in_order():
    assert query_terms("이어폰 Blue 이어 blue") == ["이어", "어폰", "blue"]


def test_a_query_with_too_many_words_is_rejected():
    query = " ".join(["word"] * (MAX_QUERY_WORDS + 1))

    with pytest.raises(TooManyQueryWords, match=f"at most {MAX_QUERY_WORDS} words"):
        query_terms(query)
    assert len(check_query(" ".join(["word"] * MAX_QUERY_WORDS))) == MAX_QUERY_WORDS


def test_a_query_with_an_overlong_word_is_rejected():
    with pytest.raises(QueryWordTooLong, match=f"at most {MAX_WORD_LEN} characters"):
        check_query("x" * (MAX_WORD_LEN + 1))
    assert check_query("x" * MAX_WORD_LEN) == ["x" * MAX_WORD_LEN]


def test_an_overlong_query_text_is_rejected_before_normalising():
    with pytest.raises(QueryTooLong):
        check_query(" " * (MAX_QUERY_CHARS + 1))
    assert issubclass(QueryTooLong, ValueError)


ENGLISH = ["Bluetooth", "Speaker", "Wireless", "USB", "Charger", "Galaxy", "S24", "Ultra", "Pro", "X100",
           "Mini", "Case", "MagSafe", "Noise", "Cancelling", "Supercalifragilisticexpialidocious"]
KOREAN = ["무선", "이어폰", "블루투스", "스피커", "갤럭시", "울트라", "충전기", "케이스", "노이즈캔슬링", "새",
          "정품", "삼성전자", "맥세이프", "헤드폰", "고속충전"]


def generated_names(count: int) -> list[str]:
    rng = random.Random(20240611)
    names = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 6)):
            word = "".join(rng.choice(ENGLISH + KOREAN) for _ in range(rng.choice([1, 1, 1, 2])))
            parts.append(word.upper() if rng.random() < 0.2 else word)
        names.append(" ".join(parts))
    return names


def queries_the_name_promises(name: str) -> list[str]:
    queries = []
    name_words = words(name)
    for word in name_words:
        for run in script_runs(word):
            if is_hangul_syllable(run[0]):
                queries += [run[start:end] for start in range(len(run)) for end in range(start + 2, len(run) + 1)]
                queries.append(run[0])
            else:
                queries += [run[:end] for end in range(2, min(len(run), MAX_WORD_LEN) + 1)]
    for first, second in zip(name_words, name_words[1:], strict=False):
        if all(is_hangul_syllable(char) for char in first + second):
            queries.append(first + second)
    return queries


def test_every_word_prefix_and_hangul_substring_of_a_name_finds_it():
    misses = []
    for name in generated_names(200):
        tokens = set(index_tokens(name, prefixes=True))
        for query in queries_the_name_promises(name):
            for typed in (query, unicodedata.normalize("NFD", query.upper())):
                if not set(query_terms(typed)) <= tokens:
                    misses.append((typed, name))

    assert not misses, misses[:10]
