"""Deterministic randomness for the generator, as column expressions.

Every draw is a hash of (seed, salt, keys), not a stateful RNG: the same seed gives the
same province whatever the partitioning, the number of cores or the order rows are
processed in, and draws work inside higher-order functions (transform over an array).
"""
from __future__ import annotations

import math
from typing import Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

_SCALE = float(1 << 53)


def uniform(seed: int, salt: str, *keys: Column) -> Column:
    """A draw in [0, 1) fixed by seed, salt and keys."""
    return F.pmod(F.xxhash64(F.lit(seed), F.lit(salt), *keys), F.lit(1 << 53)).cast("double") / _SCALE


def normal(seed: int, salt: str, *keys: Column) -> Column:
    """A standard normal draw (Box-Muller on two uniform draws)."""
    u1 = F.lit(1.0) - uniform(seed, salt + ".1", *keys)      # (0, 1]: log is finite
    u2 = uniform(seed, salt + ".2", *keys)
    return F.sqrt(F.lit(-2.0) * F.log(u1)) * F.cos(F.lit(2 * math.pi) * u2)


def pick(options: Sequence[str], u: Column) -> Column:
    """One of `options`, chosen by a uniform draw."""
    arr = F.array(*[F.lit(o) for o in options])
    return F.element_at(arr, (F.floor(u * len(options)) + 1).cast("int"))


def below(u: Column, *shares: tuple[str, float]) -> Column:
    """The label whose cumulative share first exceeds u: below(u, ("A", .2), ("B", .8))."""
    expr, total = None, 0.0
    for label, share in shares:
        total += share
        expr = (F.when(u < total, F.lit(label)) if expr is None
                else expr.when(u < total, F.lit(label)))
    return expr.otherwise(F.lit(shares[-1][0]))
