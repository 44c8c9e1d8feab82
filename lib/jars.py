"""Frozen JVM jars for clusters that cannot reach Maven Central.

On a machine that can, `scripts/freeze_jars.sh DIR` has Spark resolve the environment's
packages (with their dependencies) once and copies the jars to DIR with a MANIFEST of the
coordinates they were resolved for. A job given `--jars-dir DIR` (or `spark.jars_dir` in
the conf) ships those files with --jars instead of resolving, after checking that the
MANIFEST holds the packages the conf pins. A folder frozen where graph.packages was true
also holds GraphFrames; shipping it puts GraphFrames on the class path wherever it goes.

    python -m lib.jars DIR [--env NAME] [--preset NAME]
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

MANIFEST = "MANIFEST"


class FrozenJarsError(RuntimeError):
    """The frozen jars folder is missing, empty, or frozen for other packages."""


def frozen_jars(folder: str, packages: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[str]:
    """The jar files of a frozen folder (sorted), once its MANIFEST holds `packages` and
    nothing else but `optional` ones."""
    root = Path(folder).absolute()
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise FrozenJarsError(f"{root} has no {MANIFEST}: freeze the jars with scripts/freeze_jars.sh {root} on a "
                              "machine that reaches Maven Central")
    frozen = tuple(line.strip() for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip())
    if not set(packages) <= set(frozen) <= set(packages) | set(optional):
        raise FrozenJarsError(f"{root} holds jars for {', '.join(frozen)} but the conf pins {', '.join(packages)}: "
                              "freeze them again")
    jars = sorted(str(p) for p in root.glob("*.jar"))
    if not jars:
        raise FrozenJarsError(f"{root} has a {MANIFEST} but no jars: freeze them again")
    return jars


def freeze(packages: tuple[str, ...], settings: dict[str, str], folder: Path) -> list[Path]:
    """Resolve `packages` through Spark (with the conf's spark.jars.* settings, e.g. a
    repository mirror) and copy the jars it resolved to `folder`; the copies."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[1]").appName("wealth-freeze-jars").config(
        "spark.jars.packages", ",".join(packages)).config("spark.ui.enabled", "false")
    for key, value in settings.items():
        if key.startswith("spark.jars."):
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
    from lib.cli import conf_or_exit, job_parser

    parser = job_parser("freeze_jars", __doc__.split("\n\n")[1], needs_month=False)
    parser.add_argument("folder", type=Path, help="where to put the jars")
    args, _ = parser.parse_known_args(argv)     # a job's other flags (the Thrift Server's) are ignored
    conf = conf_or_exit(parser, args)
    copies = freeze(conf.packages, dict(conf.spark.settings), args.folder)
    print(f"froze {len(copies)} jars for {', '.join(conf.packages)} in {args.folder.absolute()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
