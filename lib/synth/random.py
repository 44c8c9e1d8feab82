"""The generator's draws beyond lib/seeded.uniform: normal, a pick among options, a label by
cumulative shares; deterministic in the same way (a hash of seed, salt and keys)."""
from __future__ import annotations

import math
from typing import Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

from lib.seeded import uniform


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
