"""The command line every job shares (SPEC §6) and the conf it resolves to."""
from __future__ import annotations

import argparse
import re

from lib.config import SOURCE_FORMATS, Config, load_conf

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def month_arg(text: str) -> str:
    """argparse type for YYYY-MM."""
    if not _MONTH.match(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a month of the form YYYY-MM")
    return text


def job_parser(job: str, description: str, needs_month: bool = True) -> argparse.ArgumentParser:
    """--month, --env, --raw-root, --warehouse, --database; jobs add their own flags."""
    parser = argparse.ArgumentParser(prog=f"jobs/{job}.py", description=description)
    parser.add_argument("--month", type=month_arg, required=needs_month,
                        help="the month to process, YYYY-MM")
    parser.add_argument("--env", default="local", help="a file conf/<env>.yaml (default: local)")
    parser.add_argument("--raw-root", help="override paths.raw_root")
    parser.add_argument("--warehouse", help="override paths.warehouse")
    parser.add_argument("--database", help="override database")
    parser.add_argument("--source-format", choices=SOURCE_FORMATS, help="override source.format")
    return parser


def conf_from_args(args: argparse.Namespace) -> Config:
    return load_conf(args.env, {
        "paths.raw_root": args.raw_root,
        "paths.warehouse": args.warehouse,
        "database": args.database,
        "source.format": args.source_format,
    })
