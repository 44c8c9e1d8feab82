"""YAML configuration -> frozen dataclasses, validated before Spark starts.

`conf/base.yaml` holds the defaults; `conf/<env>.yaml` overrides some of its keys; command
line flags (--raw-root, --warehouse, --database) override both. An unknown key or a value
of the wrong kind raises ConfigError naming the file and the key.
"""
from __future__ import annotations

import dataclasses
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
SOURCE_FORMATS = ("parquet", "csv", "table")
ENGINE_SETTINGS = ("auto", "graphframes", "dataframe")     # graph.engine (lib/graph.py)
_DB_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"      # YYYY-MM
_MONTH = re.compile(MONTH_PATTERN)


class ConfigError(ValueError):
    """A configuration file or flag is wrong; the message names it."""


@dataclass(frozen=True)
class Paths:
    raw_root: str
    warehouse: str
    checkpoint_dir: str | None = None


@dataclass(frozen=True)
class Source:
    format: str = "parquet"
    table_prefix: str = ""


@dataclass(frozen=True)
class SparkConf:
    master: str | None = None
    embedded_metastore: bool = True
    packages: tuple[str, ...] = ()
    graphframes_package: str | None = None   # added to packages only where graph.packages asks for it
    jars_dir: str | None = None         # frozen jars (lib/jars.py) used instead of resolving packages
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Quality:
    max_bad_share: float = 0.05
    max_amount: float = 1e10
    min_volume_share: float = 0.5


@dataclass(frozen=True)
class Tiers:
    platinum: float = 500_000
    diamond: float = 2_000_000
    private: float = 6_000_000


@dataclass(frozen=True)
class Volatility:
    window_months: int = 6
    min_months: int = 3
    stable_cv: float = 0.05
    trend_slope: float = 0.02
    trend_r2: float = 0.5


@dataclass(frozen=True)
class TagsConf:
    seed: int = 42
    peak_clusters: int = 4


@dataclass(frozen=True)
class UpliftConf:
    k: int = 10
    min_score: float = 0.5
    top_n: int = 3
    als_rank: int = 4
    als_reg: float = 0.1
    als_alpha: float = 10.0
    als_iterations: int = 10
    seed: int = 42
    eval_share: float = 0.2


@dataclass(frozen=True)
class RetentionConf:
    horizon: int = 3
    drop_share: float = 0.3
    population_min_aum: float | None = None
    feature_months: int = 6
    large_outflow: float = 50_000
    max_corr: float = 0.8
    threshold: float = 0.4
    reg: float = 0.01
    max_iter: int = 200
    train_share: float = 0.7
    seed: int = 42


@dataclass(frozen=True)
class GraphConf:
    engine: str = "auto"
    packages: bool = False


@dataclass(frozen=True)
class AcquisitionConf:
    window_months: int = 9
    min_amount: float = 300_000
    solo_net_outflow: float = 300_000
    critical_peak_aum: float = 500_000
    evidence_links: int = 5


@dataclass(frozen=True)
class ReportConf:
    sample_rows: int = 10


@dataclass(frozen=True)
class Config:
    env: str
    database: str
    paths: Paths
    source: Source
    spark: SparkConf
    quality: Quality
    tiers: Tiers = Tiers()
    volatility: Volatility = Volatility()
    tags: TagsConf = TagsConf()
    uplift: UpliftConf = UpliftConf()
    retention: RetentionConf = RetentionConf()
    graph: GraphConf = GraphConf()
    acquisition: AcquisitionConf = AcquisitionConf()
    report: ReportConf = ReportConf()
    ledger_start: str | None = None     # the ledger's first month: aum starts it from zero balances

    @property
    def silver_database(self) -> str:
        """Cleaned source tables; gold consumers read `database`, not this one."""
        return f"{self.database}_silver"

    @property
    def checkpoint_dir(self) -> str:
        return self.paths.checkpoint_dir or f"{self.paths.warehouse}/_checkpoints"

    @property
    def packages(self) -> tuple[str, ...]:
        """The JVM packages this environment resolves: the pinned ones, and GraphFrames
        where graph.packages asks for it (a machine that cannot resolve it still starts)."""
        wanted = self.graph.packages and self.spark.graphframes_package
        return (*self.spark.packages, self.spark.graphframes_package) if wanted else self.spark.packages

    def table(self, name: str) -> str:
        return f"{self.database}.{name}"

    def silver_table(self, name: str) -> str:
        return f"{self.silver_database}.{name}"

    def model_dir(self, stage: str, month: str) -> str:
        """Where `stage` saves the models it fitted for `month`: per database, so two
        databases in one warehouse never overwrite each other's."""
        return f"{absolute(self.paths.warehouse)}/_models/{self.database}/{stage}/{month}"

    def lock_path(self, month: str) -> str:
        """The file that says which run holds `month` of the database (lib/run_lock)."""
        return f"{absolute(self.paths.warehouse)}/_locks/{self.database}/{month}.json"


def load_conf(env: str = "local", overrides: Mapping[str, Any] | None = None,
              conf_dir: Path = CONF_DIR, preset: str | None = None) -> Config:
    """Read base.yaml + <env>.yaml (+ presets/<preset>.yaml), apply flag overrides,
    validate, freeze."""
    base = _read_yaml(conf_dir / "base.yaml")
    env_file = conf_dir / f"{env}.yaml"
    if not _exists(env_file):
        known = sorted(p.stem for p in conf_dir.glob("*.yaml") if p.stem != "base") or ["see conf/"]
        raise ConfigError(f"unknown environment '{env}': no {env_file} (known: {', '.join(known)})")
    merged = _merge(base, _read_yaml(env_file), where=env_file.name)
    if preset:
        preset_file = conf_dir / "presets" / f"{preset}.yaml"
        if not _exists(preset_file):
            known = sorted(p.stem for p in (conf_dir / "presets").glob("*.yaml")) or ["none"]
            raise ConfigError(f"unknown preset '{preset}': no {preset_file} (known: {', '.join(known)})")
        merged = _merge(merged, _read_yaml(preset_file), where=f"presets/{preset_file.name}")
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(merged, dotted, value)
    return _build(env, merged, source=f"{env_file.name} over base.yaml")


def read_text(path: Path) -> str:
    """A file's text; also from inside the code zip that spark-submit ships (--py-files)."""
    text = str(path)
    if ".zip/" in text:
        archive, member = text.split(".zip/", 1)
        with zipfile.ZipFile(archive + ".zip") as zf:
            return zf.read(member).decode("utf-8")
    return path.read_text(encoding="utf-8")


def _exists(path: Path) -> bool:
    text = str(path)
    if ".zip/" in text:
        archive, member = text.split(".zip/", 1)
        with zipfile.ZipFile(archive + ".zip") as zf:
            return member in zf.namelist()
    return path.exists()


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(read_text(path)) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path.name}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: expected a mapping at the top level")
    return data


def _merge(base: dict, top: dict, where: str, prefix: str = "") -> dict:
    """Deep-merge `top` into a copy of `base`; a key unknown to base is an error."""
    out = dict(base)
    for key, value in top.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(f"{where}: unknown key '{dotted}' (known: {', '.join(sorted(base))})")
        free_form = dotted == "spark.settings"  # any Spark setting may be given
        if isinstance(value, dict) and isinstance(base[key], dict) and not free_form:
            out[key] = _merge(base[key], value, where, prefix=f"{dotted}.")
        elif isinstance(value, dict) and free_form:
            out[key] = {**base[key], **value}
        else:
            out[key] = value
    return out


def _set_dotted(tree: dict, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    merge = isinstance(value, dict) and isinstance(tree.get(leaf), dict)
    tree[leaf] = {**tree[leaf], **value} if merge else value


def _section(cls, raw: Any, name: str, source: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: '{name}' must be a mapping")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key '{name}.{unknown[0]}' (known: {', '.join(sorted(known))})")
    return cls(**raw)


def _build(env: str, raw: dict, source: str) -> Config:
    known = {f.name for f in dataclasses.fields(Config)} - {"env"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key '{unknown[0]}' (known: {', '.join(sorted(known))})")
    spark_raw = dict(raw.get("spark") or {})
    spark_raw["packages"] = tuple(spark_raw.get("packages") or ())
    spark_raw["settings"] = {str(k): str(v) for k, v in (spark_raw.get("settings") or {}).items()}
    conf = Config(
        env=env,
        database=raw.get("database"),
        paths=_section(Paths, raw.get("paths"), "paths", source),
        source=_section(Source, raw.get("source") or {}, "source", source),
        spark=_section(SparkConf, spark_raw, "spark", source),
        quality=_section(Quality, raw.get("quality") or {}, "quality", source),
        tiers=_section(Tiers, raw.get("tiers") or {}, "tiers", source),
        volatility=_section(Volatility, raw.get("volatility") or {}, "volatility", source),
        tags=_section(TagsConf, raw.get("tags") or {}, "tags", source),
        uplift=_section(UpliftConf, raw.get("uplift") or {}, "uplift", source),
        retention=_section(RetentionConf, raw.get("retention") or {}, "retention", source),
        graph=_section(GraphConf, raw.get("graph") or {}, "graph", source),
        acquisition=_section(AcquisitionConf, raw.get("acquisition") or {}, "acquisition", source),
        report=_section(ReportConf, raw.get("report") or {}, "report", source),
        ledger_start=raw.get("ledger_start"),
    )
    _validate(conf, source)
    return conf


def _validate(conf: Config, source: str) -> None:
    def fail(key: str, why: str) -> None:
        raise ConfigError(f"{source}: bad value for '{key}': {why}")

    if not isinstance(conf.database, str) or not _DB_NAME.match(conf.database):
        fail("database", f"{conf.database!r} is not a lower_snake_case name")
    if conf.ledger_start is not None and not (isinstance(conf.ledger_start, str) and _MONTH.match(conf.ledger_start)):
        fail("ledger_start", f"{conf.ledger_start!r} is not null or a month YYYY-MM")
    for key in ("raw_root", "warehouse"):
        if not isinstance(getattr(conf.paths, key), str) or not getattr(conf.paths, key):
            fail(f"paths.{key}", "must be a non-empty path")
    if conf.source.format not in SOURCE_FORMATS:
        fail("source.format", f"{conf.source.format!r} is not one of {', '.join(SOURCE_FORMATS)}")
    if not isinstance(conf.spark.embedded_metastore, bool):
        fail("spark.embedded_metastore", "must be true or false")
    if conf.spark.jars_dir is not None and (not isinstance(conf.spark.jars_dir, str) or not conf.spark.jars_dir):
        fail("spark.jars_dir", "must be null or the folder scripts/freeze_jars.sh wrote")
    for coord in conf.spark.packages:
        if not isinstance(coord, str) or coord.count(":") != 2:
            fail("spark.packages", f"{coord!r} is not a group:artifact:version coordinate")
    gf = conf.spark.graphframes_package
    if gf is not None and (not isinstance(gf, str) or gf.count(":") != 2):
        fail("spark.graphframes_package", f"{gf!r} is not a group:artifact:version coordinate")
    if conf.graph.engine not in ENGINE_SETTINGS:
        fail("graph.engine", f"{conf.graph.engine!r} is not one of {', '.join(ENGINE_SETTINGS)}")
    if not isinstance(conf.graph.packages, bool):
        fail("graph.packages", "must be true or false")
    if conf.graph.packages and not gf:
        fail("graph.packages", "is true but spark.graphframes_package names no coordinate")
    a = conf.acquisition
    for key in ("window_months", "evidence_links"):
        if not isinstance(getattr(a, key), int) or isinstance(getattr(a, key), bool) or not 1 <= getattr(a, key) <= 24:
            fail(f"acquisition.{key}", f"{getattr(a, key)!r} is not a whole number from 1 to 24")
    for key in ("min_amount", "solo_net_outflow", "critical_peak_aum"):
        if not _number(getattr(a, key)) or getattr(a, key) <= 0:
            fail(f"acquisition.{key}", f"{getattr(a, key)!r} is not a positive amount")
    for key in ("max_bad_share", "min_volume_share"):
        share = getattr(conf.quality, key)
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1:
            fail(f"quality.{key}", f"{share!r} is not a share between 0 and 1")
    t = conf.tiers
    if not all(_number(v) for v in (t.platinum, t.diamond, t.private)) or not 0 < t.platinum < t.diamond < t.private:
        fail("tiers", f"need 0 < platinum < diamond < private, got {t.platinum}, {t.diamond}, {t.private}")
    v = conf.volatility
    if not (isinstance(v.window_months, int) and isinstance(v.min_months, int)
            and 2 <= v.min_months <= v.window_months <= 24):
        fail("volatility", f"need 2 <= min_months <= window_months <= 24, got {v.min_months}, {v.window_months}")
    for key in ("stable_cv", "trend_slope", "trend_r2"):
        if not _number(getattr(v, key)) or getattr(v, key) < 0:
            fail(f"volatility.{key}", f"{getattr(v, key)!r} is not a non-negative number")
    if not isinstance(conf.tags.seed, int) or not isinstance(conf.tags.peak_clusters, int) \
            or not 2 <= conf.tags.peak_clusters <= 10:
        fail("tags", "seed must be a whole number and 2 <= peak_clusters <= 10")
    u = conf.uplift
    for key in ("k", "top_n", "als_rank", "als_iterations", "seed"):
        if not isinstance(getattr(u, key), int) or isinstance(getattr(u, key), bool) or getattr(u, key) < 1:
            fail(f"uplift.{key}", f"{getattr(u, key)!r} is not a whole number >= 1")
    if isinstance(u.als_rank, int) and u.als_rank >= 6:
        fail("uplift.als_rank", f"{u.als_rank} latent factors for six products: use fewer than six")
    for key in ("min_score", "eval_share"):
        if not _number(getattr(u, key)) or not 0 <= getattr(u, key) <= 1:
            fail(f"uplift.{key}", f"{getattr(u, key)!r} is not a number between 0 and 1")
    for key in ("als_reg", "als_alpha"):
        if not _number(getattr(u, key)) or getattr(u, key) < 0:
            fail(f"uplift.{key}", f"{getattr(u, key)!r} is not a non-negative number")
    r = conf.retention
    for key in ("horizon", "feature_months", "max_iter", "seed"):
        if not isinstance(getattr(r, key), int) or isinstance(getattr(r, key), bool) or getattr(r, key) < 1:
            fail(f"retention.{key}", f"{getattr(r, key)!r} is not a whole number >= 1")
    for key in ("drop_share", "max_corr", "threshold", "train_share"):
        if not _number(getattr(r, key)) or not 0 < getattr(r, key) < 1:
            fail(f"retention.{key}", f"{getattr(r, key)!r} is not a number strictly between 0 and 1")
    for key in ("reg", "large_outflow"):
        if not _number(getattr(r, key)) or getattr(r, key) < 0:
            fail(f"retention.{key}", f"{getattr(r, key)!r} is not a non-negative number")
    if r.population_min_aum is not None and (not _number(r.population_min_aum) or r.population_min_aum < 0):
        fail("retention.population_min_aum", f"{r.population_min_aum!r} is not null or a non-negative amount")
    rows = conf.report.sample_rows
    if not isinstance(rows, int) or isinstance(rows, bool) or not 1 <= rows <= 100:
        fail("report.sample_rows", f"{rows!r} is not a whole number from 1 to 100")
    amount = conf.quality.max_amount
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
        fail("quality.max_amount", f"{amount!r} is not a positive amount")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def absolute(path: str) -> str:
    """Local paths become absolute (Derby and Delta need them); URIs stay as they are."""
    return path if "://" in path or path.startswith("hdfs:") else os.path.abspath(path)
