"""Freezing the JVM jars for clusters that cannot reach Maven Central.

On a machine that can, `scripts/freeze_jars.sh DIR` has Spark resolve the environment's
packages (with their dependencies) once and copies the jars to DIR with a MANIFEST of the
coordinates they were resolved for. A job given `--jars-dir DIR` (or `spark.jars_dir` in
the conf) ships those files with --jars instead of resolving, after lib/spark.frozen_jars
checks that the MANIFEST holds the packages the conf pins. A folder frozen where
graph.packages was true also holds GraphFrames; shipping it puts GraphFrames on the class
path wherever it goes.

    python -m lib.deploy.freeze_jars DIR [--env NAME] [--preset NAME]
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyspark.sql import SparkSession

from lib.cli import conf_or_exit, job_parser
from lib.spark import MANIFEST, resolver_settings


def freeze(packages: tuple[str, ...], settings: dict[str, str], folder: Path) -> list[Path]:
    """Resolve `packages` through Spark (with the resolver `settings`: the pinned chain, a
    repository mirror) and copy the jars it resolved to `folder`; the copies."""
    builder = SparkSession.builder.master("local[1]").appName("wealth-freeze-jars").config(
        "spark.jars.packages", ",".join(packages)).config("spark.ui.enabled", "false")
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        resolved = [Path(unquote(urlparse(u).path)) for u in spark.sparkContext.getConf().get("spark.jars").split(",")]
    finally:
        spark.stop()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jar"):
        old.unlink()
    copies = [Path(shutil.copy2(jar, folder / jar.name)) for jar in resolved]
    (folder / MANIFEST).write_text("".join(f"{p}\n" for p in packages), encoding="utf-8")
    return copies


def main(argv=None) -> int:
    parser = job_parser("freeze_jars", __doc__.split("\n\n")[1], needs_month=False)
    parser.add_argument("folder", type=Path, help="where to put the jars")
    args, _ = parser.parse_known_args(argv)     # a job's other flags (the Thrift Server's) are ignored
    conf = conf_or_exit(parser, args)
    copies = freeze(conf.packages, resolver_settings(conf), args.folder)
    print(f"froze {len(copies)} jars for {', '.join(conf.packages)} in {args.folder.absolute()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
