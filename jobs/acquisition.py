"""Acquisition for one month: the counterparty graph of the wealth customers' transfers
over the analysis window (GraphFrames where its jar loads, plain DataFrames otherwise) ->
counterparty_edges, prospect_external (SOLO / MULTILATERAL), prospect_internal, and the
critical customers -> prospect_critical, with acquisition_summary beside the paper's
figures."""
from __future__ import annotations

import sys

from lib.acquisition.run import run_acquisition
from lib.cli import run_month_job


def main(argv=None) -> int:
    return run_month_job("acquisition", __doc__,
                         lambda spark, conf, args, log: run_acquisition(spark, conf, args.month, log), argv)


if __name__ == "__main__":
    sys.exit(main())
