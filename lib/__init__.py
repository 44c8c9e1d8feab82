"""Wealth-customer mining on Spark: the library behind the jobs in jobs/."""
