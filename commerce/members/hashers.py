"""Password hashers. Production uses Django's Argon2PasswordHasher with its default cost."""
from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2 at the lowest sensible cost: TESTS ONLY (config/settings/test.py).

    Same algorithm and hash format as production (``argon2$argon2id$...``), so tests still see a
    real salted Argon2 hash, just computed in microseconds instead of tens of milliseconds.
    """

    time_cost = 1
    memory_cost = 64  # KiB
    parallelism = 1
