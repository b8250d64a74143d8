"""Local development: what `make up` runs. DEBUG stays off unless asked for (DJANGO_DEBUG=1):
with it on, Django keeps every SQL query of a process in memory, which long-running workers and
benchmarks cannot afford. Static files are served by WhiteNoise either way."""
from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", False)
