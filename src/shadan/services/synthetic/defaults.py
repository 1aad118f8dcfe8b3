"""The synthetic operator's default size and seed, apart from the generator so that the `demo` command's
options can show them without importing the generator (and Faker's locales)."""

DEFAULT_SIZE = 100_000
DEFAULT_SEED = 6
