"""What a valid product looks like: the fixed category list, currencies and size bounds.

Categories are a fixed list (not free text) so that search facets and filters stay meaningful;
adding one is a code change reviewed like any other.
"""
from decimal import Decimal

CATEGORIES = (
    "electronics", "computers", "mobile", "appliances", "fashion", "shoes", "beauty", "health",
    "food", "home", "furniture", "kitchen", "sports", "outdoors", "toys", "baby", "books", "music",
    "office", "pets", "automotive", "tools", "garden", "other",
)
CURRENCIES = ("KRW", "USD", "EUR", "JPY", "CNY", "GBP")
DEFAULT_CURRENCY = "KRW"

NAME_MAX = 200
DESCRIPTION_MAX = 5000
PRICE_MIN = Decimal("0.01")
PRICE_MAX = Decimal("999999999999.99")
ATTRIBUTES_MAX_KEYS = 50
ATTRIBUTE_KEY_MAX = 64
ATTRIBUTES_MAX_BYTES = 8192
STOCK_MAX = 1_000_000_000
STOCK_DELTA_MAX = 1_000_000_000
REASON_MAX = 200
