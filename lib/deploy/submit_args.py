"""spark-submit arguments for a job run, one per line (read by scripts/submit.sh), and the
code package it ships. The job's own flags (--env, --warehouse, ...) are read here too, so
settings fixed when the driver JVM starts (the Derby home) match what the job uses."""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from lib.cli import conf_from_args, job_parser
from lib.errors import ConfigError, FrozenJarsError
from lib.provenance import code_version
from lib.spark import session_settings

ROOT = Path(__file__).resolve().parent.parent


def package(path: Path) -> None:
    """lib/, jobs/ and conf/ as a zip for --py-files (lib reads conf/ from beside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for folder, pattern in (("lib", "*.py"), ("jobs", "*.py"), ("conf", "*.yaml")):
            for file in sorted((ROOT / folder).rglob(pattern)):
                zf.write(file, file.relative_to(ROOT))
        zf.writestr("lib/BUILD", code_version().split("+", 1)[1])   # the commit, for run_manifest


def submit_args(job_argv: list[str], master: str | None, serving: bool = False) -> list[str]:
    args, _ = job_parser("submit", "", needs_month=False).parse_known_args(job_argv)
    conf = conf_from_args(args)
    settings = session_settings(conf, serving)
    out = ["--master", master or conf.spark.master or "local[2]", "--name", f"wealth ({conf.env})"]
    for key, flag in (("spark.jars.packages", "--packages"), ("spark.jars", "--jars")):
        if key in settings:
            out += [flag, settings.pop(key)]
    for key, value in settings.items():
        out += ["--conf", f"{key}={value}"]
    return out


if __name__ == "__main__":
    cli = argparse.ArgumentParser()
    cli.add_argument("--master")
    cli.add_argument("--package", type=Path, required=True)
    cli.add_argument("--serving", action="store_true", help="the Thrift Server's settings (lib/deploy/serving.py)")
    ours, job_argv = cli.parse_known_args(sys.argv[1:])
    try:
        arguments = submit_args(job_argv, ours.master, ours.serving)
    except (ConfigError, FrozenJarsError) as err:
        sys.exit(f"submit: {err}")
    package(ours.package)
    print("\n".join(arguments))
