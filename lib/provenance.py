"""What a run's results come from: the code's version and the configuration's hash
(recorded in run_manifest and printed on the report)."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path

from lib.config import Config, read_text

ROOT = Path(__file__).resolve().parent.parent


def code_version() -> str:
    """The package version and the git commit of the code (or of the zip it was built from)."""
    try:
        version = metadata.version("wealth-mining")
    except metadata.PackageNotFoundError:
        version = "unknown"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        try:
            commit = read_text(ROOT / "lib" / "BUILD").strip()      # written into the shipped zip
        except (OSError, KeyError):
            commit = "unknown"
    return f"{version}+{commit}"


def conf_hash(conf: Config) -> str:
    text = json.dumps(dataclasses.asdict(conf), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
