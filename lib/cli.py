"""The command line every job shares (SPEC §6) and the conf it resolves to."""
from __future__ import annotations

import argparse

from lib.config import SOURCE_FORMATS, Config, load_conf
from lib.errors import ConfigError
from lib.logs import get_logger, run_job
from lib.months import is_month, month_range
from lib.run_lock import holding
from lib.spark import spark_session


def month_arg(text: str) -> str:
    """argparse type for YYYY-MM."""
    if not is_month(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a month of the form YYYY-MM")
    return text


def job_parser(job: str, description: str, needs_month: bool = True) -> argparse.ArgumentParser:
    """--month, --env, --raw-root, --warehouse, --database; jobs add their own flags."""
    # no abbreviations: scripts/submit.sh reads these flags out of any job's, and there an
    # abbreviation would take a job's own flag (generate's --customers) for --customers-sample
    parser = argparse.ArgumentParser(prog=f"jobs/{job}.py", description=description, allow_abbrev=False)
    parser.add_argument("--month", type=month_arg, required=needs_month,
                        help="the month to process, YYYY-MM")
    parser.add_argument("--env", default="local", help="a file conf/<env>.yaml (default: local)")
    parser.add_argument("--preset", help="a file conf/presets/<preset>.yaml over the environment, "
                                         "e.g. article_monthly")
    parser.add_argument("--raw-root", help="override paths.raw_root")
    parser.add_argument("--warehouse", help="override paths.warehouse")
    parser.add_argument("--database", help="override database")
    parser.add_argument("--source-format", choices=SOURCE_FORMATS, help="override source.format")
    parser.add_argument("--customers-sample", type=float, metavar="SHARE",
                        help="override customers_sample: run on a slice of the customers (e.g. 0.01) in a "
                             "database of its own, <database>_sample_<share>")
    parser.add_argument("--jars-dir", help="override spark.jars_dir: ship the JVM jars frozen there by "
                                           "scripts/freeze_jars.sh instead of resolving spark.packages")
    return parser


def backfill_flags(parser: argparse.ArgumentParser) -> None:
    """--from-month and --ledger-start, for the jobs that compute AUM over a range ending at --month."""
    parser.add_argument("--from-month", type=month_arg, help="first month of a backfill (default: --month)")
    parser.add_argument("--ledger-start", type=month_arg,
                        help="override ledger_start: the ledger's first month, which aum starts from zero balances")


def month_span(args: argparse.Namespace) -> tuple[str, str]:
    """(first, last) month of a run with --from-month."""
    first = getattr(args, "from_month", None) or args.month
    if first > args.month:
        raise ValueError(f"--from-month {first} is after --month {args.month}")
    return first, args.month


def conf_from_args(args: argparse.Namespace) -> Config:
    return load_conf(args.env, preset=args.preset, overrides={
        "paths.raw_root": args.raw_root,
        "paths.warehouse": args.warehouse,
        "database": args.database,
        "source.format": args.source_format,
        "spark.jars_dir": args.jars_dir,
        "ledger_start": getattr(args, "ledger_start", None),
        "customers_sample": args.customers_sample,
    })


def conf_or_exit(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Config:
    """The run's conf; a missing or invalid one ends the program before Spark starts, with
    exit code 2 and one line naming the file and the key (as scripts/submit.sh does)."""
    try:
        return conf_from_args(args)
    except ConfigError as err:
        parser.exit(2, f"{parser.prog}: {err}\n")


def run_month_job(job: str, description: str, run, argv=None, extra_flags=None) -> int:
    """Parse the common flags (and `extra_flags(parser)`), load the conf (failing before
    Spark starts), then call run(spark, conf, args, log) in a session, holding the run's
    months (lib/run_lock); 0 on success, 1 with a one-line reason on failure."""
    parser = job_parser(job, description)
    if extra_flags:
        extra_flags(parser)
    args = parser.parse_args(argv)
    conf = conf_or_exit(parser, args)
    log = get_logger(job)

    def body() -> None:
        months = month_range(*month_span(args))
        with spark_session(job, conf) as spark, holding(spark, conf, job, months, log):
            run(spark, conf, args, log)

    return run_job(log, body)
