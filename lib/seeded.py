"""Seeded draws as column expressions, for the product (the evaluation samples, the train /
test split) and the generator alike.

Every draw is a hash of (seed, salt, keys), not a stateful RNG: the same seed gives the
same draw whatever the partitioning, the number of cores or the order rows are processed
in, and draws work inside higher-order functions (transform over an array).
"""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

_SCALE = float(1 << 53)


def uniform(seed: int, salt: str, *keys: Column) -> Column:
    """A draw in [0, 1) fixed by seed, salt and keys."""
    return F.pmod(F.xxhash64(F.lit(seed), F.lit(salt), *keys), F.lit(1 << 53)).cast("double") / _SCALE
