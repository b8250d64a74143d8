"""Card rules checked before the gateway is called: the Luhn checksum and the expiry month."""
from __future__ import annotations

from django.utils import timezone

NUMBER_MIN, NUMBER_MAX = 12, 19


def normalise_number(raw: str) -> str:
    """Digits only: spaces and dashes, as people type them, are dropped."""
    return raw.replace(" ", "").replace("-", "")


def luhn_valid(number: str) -> bool:
    if not number.isascii() or not number.isdigit() or not NUMBER_MIN <= len(number) <= NUMBER_MAX:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def is_expired(exp_month: int, exp_year: int) -> bool:
    """A card is valid through the last day of its expiry month (UTC)."""
    today = timezone.now().date()
    return (exp_year, exp_month) < (today.year, today.month)
