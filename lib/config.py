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
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

import yaml

from lib.errors import ConfigError
from lib.months import is_month

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
SOURCE_FORMATS = ("parquet", "csv", "table")
ENGINE_SETTINGS = ("auto", "graphframes", "dataframe")     # graph.engine (lib/acquisition/graph.py)
_DB_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
BACKFILL_PASS_ROWS = 20_000_000     # backfill_pass_rows' default (lib/ingest/passes.py)
SAMPLE_BUCKETS = 10_000      # customers_sample is a whole number of 1/SAMPLE_BUCKETS (lib/ingest/sample.py)
DELTA_MIN_RETENTION_DAYS = 7     # Delta's default file retention, the least it deems safe for runs in flight


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def sample_buckets(share: float) -> int:
    """How many of the SAMPLE_BUCKETS hash buckets of customers a customers_sample share takes."""
    return round(share * SAMPLE_BUCKETS)


def _share(value: Any) -> bool:
    """customers_sample: a share in (0, 1], a whole number of 1/SAMPLE_BUCKETS."""
    return _number(value) and 0 < value <= 1 and abs(value * SAMPLE_BUCKETS - sample_buckets(value)) < 1e-9


def sample_database(database: str, share: float) -> str:
    """The database a run on a slice of the customers reads and writes, never the
    province's own: wealth with 0.01 -> wealth_sample_0_01."""
    text = format((Decimal(sample_buckets(share)) / SAMPLE_BUCKETS).normalize(), "f")
    return f"{database}_sample_{text.replace('.', '_')}"


class _BadValue(ConfigError):
    """A value of the wrong kind, named by its key; load_conf adds the file it came from."""


def _require(ok: bool, key: str, why: str) -> None:
    if not ok:
        raise _BadValue(f"bad value for '{key}': {why}")


def _require_each(section: Any, name: str, keys: tuple[str, ...], ok, why: str) -> None:
    """_require(ok(value)) for each of the section's `keys`: "<value> <why>" when not."""
    for key in keys:
        value = getattr(section, key)
        _require(ok(value), f"{name}.{key}", f"{value!r} {why}")


def _coordinate(value: Any) -> bool:
    return isinstance(value, str) and value.count(":") == 2


@dataclass(frozen=True)
class Paths:
    raw_root: str
    warehouse: str
    checkpoint_dir: str | None = None
    event_log_dir: str | None = None

    def __post_init__(self) -> None:
        for key in ("raw_root", "warehouse"):
            _require(isinstance(getattr(self, key), str) and bool(getattr(self, key)), f"paths.{key}",
                     "must be a non-empty path")


@dataclass(frozen=True)
class Source:
    format: str = "parquet"
    table_prefix: str = ""

    def __post_init__(self) -> None:
        _require(self.format in SOURCE_FORMATS, "source.format",
                 f"{self.format!r} is not one of {', '.join(SOURCE_FORMATS)}")


@dataclass(frozen=True)
class SparkConf:
    master: str | None = None
    embedded_metastore: bool = True
    packages: tuple[str, ...] = ()
    graphframes_package: str | None = None   # added to packages only where graph.packages asks for it
    jars_dir: str | None = None         # frozen jars (lib/deploy/freeze_jars.py) used instead of resolving packages
    settings: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require(isinstance(self.embedded_metastore, bool), "spark.embedded_metastore", "must be true or false")
        _require(self.jars_dir is None or (isinstance(self.jars_dir, str) and bool(self.jars_dir)), "spark.jars_dir",
                 "must be null or the folder scripts/freeze_jars.sh wrote")
        for coord in self.packages:
            _require(_coordinate(coord), "spark.packages", f"{coord!r} is not a group:artifact:version coordinate")
        _require(self.graphframes_package is None or _coordinate(self.graphframes_package),
                 "spark.graphframes_package",
                 f"{self.graphframes_package!r} is not a group:artifact:version coordinate")


@dataclass(frozen=True)
class Quality:
    max_bad_share: float = 0.05
    max_amount: float = 1e10
    min_volume_share: float = 0.5

    def __post_init__(self) -> None:
        _require_each(self, "quality", ("max_bad_share", "min_volume_share"), lambda v: _number(v) and 0 <= v <= 1,
                      "is not a share between 0 and 1")
        _require(_number(self.max_amount) and self.max_amount > 0, "quality.max_amount",
                 f"{self.max_amount!r} is not a positive amount")


@dataclass(frozen=True)
class Tiers:
    platinum: float = 500_000
    diamond: float = 2_000_000
    private: float = 6_000_000

    def __post_init__(self) -> None:
        bounds = (self.platinum, self.diamond, self.private)
        _require(all(_number(v) for v in bounds) and 0 < self.platinum < self.diamond < self.private, "tiers",
                 f"need 0 < platinum < diamond < private, got {self.platinum}, {self.diamond}, {self.private}")


@dataclass(frozen=True)
class Volatility:
    window_months: int = 6
    min_months: int = 3
    stable_cv: float = 0.05
    trend_slope: float = 0.02
    trend_r2: float = 0.5

    def __post_init__(self) -> None:
        _require(_whole(self.window_months) and _whole(self.min_months) and 2 <= self.min_months <= self.window_months
                 <= 24, "volatility",
                 f"need 2 <= min_months <= window_months <= 24, got {self.min_months}, {self.window_months}")
        _require_each(self, "volatility", ("stable_cv", "trend_slope", "trend_r2"), lambda v: _number(v) and v >= 0,
                      "is not a non-negative number")


@dataclass(frozen=True)
class TagsConf:
    seed: int = 42
    peak_clusters: int = 4

    def __post_init__(self) -> None:
        _require(_whole(self.seed) and _whole(self.peak_clusters) and 2 <= self.peak_clusters <= 10, "tags",
                 "seed must be a whole number and 2 <= peak_clusters <= 10")


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

    def __post_init__(self) -> None:
        _require_each(self, "uplift", ("k", "top_n", "als_rank", "als_iterations", "seed"),
                      lambda v: _whole(v) and v >= 1, "is not a whole number >= 1")
        _require(self.als_rank < 6, "uplift.als_rank",
                 f"{self.als_rank} latent factors for six products: use fewer than six")
        _require_each(self, "uplift", ("min_score", "eval_share"), lambda v: _number(v) and 0 <= v <= 1,
                      "is not a number between 0 and 1")
        _require_each(self, "uplift", ("als_reg", "als_alpha"), lambda v: _number(v) and v >= 0,
                      "is not a non-negative number")


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
    max_auc_drop: float = 0.02
    max_psi: float = 0.25

    def __post_init__(self) -> None:
        _require_each(self, "retention", ("horizon", "feature_months", "max_iter", "seed"),
                      lambda v: _whole(v) and v >= 1, "is not a whole number >= 1")
        _require_each(self, "retention", ("drop_share", "max_corr", "threshold", "train_share"),
                      lambda v: _number(v) and 0 < v < 1, "is not a number strictly between 0 and 1")
        _require_each(self, "retention", ("reg", "large_outflow", "max_auc_drop", "max_psi"),
                      lambda v: _number(v) and v >= 0, "is not a non-negative number")
        _require(self.population_min_aum is None or (_number(self.population_min_aum) and self.population_min_aum >= 0),
                 "retention.population_min_aum", f"{self.population_min_aum!r} is not null or a non-negative amount")


@dataclass(frozen=True)
class GraphConf:
    engine: str = "auto"
    packages: bool = False

    def __post_init__(self) -> None:
        _require(self.engine in ENGINE_SETTINGS, "graph.engine",
                 f"{self.engine!r} is not one of {', '.join(ENGINE_SETTINGS)}")
        _require(isinstance(self.packages, bool), "graph.packages", "must be true or false")


@dataclass(frozen=True)
class AcquisitionConf:
    window_months: int = 9
    min_amount: float = 300_000
    solo_net_outflow: float = 300_000
    critical_peak_aum: float = 500_000
    evidence_links: int = 5

    def __post_init__(self) -> None:
        _require_each(self, "acquisition", ("window_months", "evidence_links"), lambda v: _whole(v) and 1 <= v <= 24,
                      "is not a whole number from 1 to 24")
        _require_each(self, "acquisition", ("min_amount", "solo_net_outflow", "critical_peak_aum"),
                      lambda v: _number(v) and v > 0, "is not a positive amount")


@dataclass(frozen=True)
class ReportConf:
    sample_rows: int = 10

    def __post_init__(self) -> None:
        _require(_whole(self.sample_rows) and 1 <= self.sample_rows <= 100, "report.sample_rows",
                 f"{self.sample_rows!r} is not a whole number from 1 to 100")


@dataclass(frozen=True)
class ExportConf:
    capacity: int = 30

    def __post_init__(self) -> None:
        _require(_whole(self.capacity) and self.capacity >= 1, "export.capacity",
                 f"{self.capacity!r} is not a whole number >= 1 (customers per branch and list)")


@dataclass(frozen=True)
class TablesConf:
    log_retention_days: int = 30
    deleted_file_retention_days: int = 30

    def __post_init__(self) -> None:
        _require_each(self, "tables", ("log_retention_days", "deleted_file_retention_days"),
                      lambda v: _whole(v) and v >= DELTA_MIN_RETENTION_DAYS,
                      f"is not a whole number of days >= {DELTA_MIN_RETENTION_DAYS} (Delta's safety check)")

    def properties(self) -> dict[str, str]:
        """The retentions as Delta table properties."""
        return {"delta.logRetentionDuration": f"interval {self.log_retention_days} days",
                "delta.deletedFileRetentionDuration": f"interval {self.deleted_file_retention_days} days"}

    def delta_defaults(self) -> dict[str, str]:
        """Session settings that give every table Delta creates these retentions."""
        return {f"spark.databricks.delta.properties.defaults.{key.removeprefix('delta.')}": value
                for key, value in self.properties().items()}


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
    tables: TablesConf = TablesConf()
    export: ExportConf = ExportConf()
    ledger_start: str | None = None     # the ledger's first month: aum starts it from zero balances
    customers_sample: float | None = None   # a slice of the customers (lib/ingest/sample.py); None: all
    backfill_pass_rows: int = BACKFILL_PASS_ROWS     # source ledger rows in one pass of a backfill

    def __post_init__(self) -> None:
        _require(isinstance(self.database, str) and _DB_NAME.match(self.database) is not None, "database",
                 f"{self.database!r} is not a lower_snake_case name")
        _require(self.ledger_start is None or is_month(self.ledger_start), "ledger_start",
                 f"{self.ledger_start!r} is not null or a month YYYY-MM")
        _require(self.customers_sample is None or _share(self.customers_sample), "customers_sample",
                 f"{self.customers_sample!r} is not null or a share in (0, 1] in steps of 1/{SAMPLE_BUCKETS:,}")
        _require(_whole(self.backfill_pass_rows) and self.backfill_pass_rows > 0, "backfill_pass_rows",
                 f"{self.backfill_pass_rows!r} is not a positive whole number of rows")
        _require(not self.graph.packages or bool(self.spark.graphframes_package), "graph.packages",
                 "is true but spark.graphframes_package names no coordinate")

    @property
    def silver_database(self) -> str:
        """Cleaned source tables; gold consumers read `database`, not this one."""
        return f"{self.database}_silver"

    @property
    def checkpoint_dir(self) -> str:
        return self.paths.checkpoint_dir or f"{self.paths.warehouse}/_checkpoints"

    @property
    def event_log_dir(self) -> str:
        """Where Spark writes each run's event log, for a History Server to replay."""
        return self.paths.event_log_dir or f"{self.paths.warehouse}/_spark_events"

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
    database, sample = raw.get("database"), raw.get("customers_sample")
    if isinstance(database, str) and _share(sample):
        database = sample_database(database, sample)      # a slice never reads or writes the province's tables
    try:
        return Config(
            env=env,
            database=database,
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
            tables=_section(TablesConf, raw.get("tables") or {}, "tables", source),
            export=_section(ExportConf, raw.get("export") or {}, "export", source),
            ledger_start=raw.get("ledger_start"),
            customers_sample=sample,
            backfill_pass_rows=raw.get("backfill_pass_rows", BACKFILL_PASS_ROWS),
        )
    except _BadValue as err:
        raise ConfigError(f"{source}: {err}") from None


def is_uri(path: str) -> bool:
    """A path on a file system other than the local one (hdfs:, s3a://, ...)."""
    return "://" in path or path.startswith("hdfs:")


def absolute(path: str) -> str:
    """Local paths become absolute (Derby and Delta need them); URIs stay as they are."""
    return path if is_uri(path) else os.path.abspath(path)
