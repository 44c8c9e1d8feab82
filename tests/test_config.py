"""Configuration fails before Spark starts, naming the key or value that is wrong."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from lib.cli import job_parser
from lib.config import load_conf
from lib.deploy.submit_args import submit_args
from lib.errors import ConfigError


def write_env(tmp_path, text):
    base = (load_conf.__globals__["CONF_DIR"] / "base.yaml").read_text(encoding="utf-8")
    (tmp_path / "base.yaml").write_text(base, encoding="utf-8")
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_shipped_environments_load():
    for env in ("local", "cluster"):
        conf = load_conf(env)
        assert conf.database == "wealth" and conf.spark.packages


def test_each_database_keeps_its_own_models():
    a = load_conf("local", {"paths.warehouse": "/w", "database": "a"})
    b = load_conf("local", {"paths.warehouse": "/w", "database": "b"})
    assert (a.model_dir("tags", "2019-01"), b.model_dir("tags", "2019-01")) == (
        "/w/_models/a/tags/2019-01", "/w/_models/b/tags/2019-01")


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"t.yaml: unknown key 'quality.max_bad_shar'"):
        load_conf("t", conf_dir=write_env(tmp_path, "quality:\n  max_bad_shar: 0.1\n"))


def test_unknown_top_level_key_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'tierz'"):
        load_conf("t", conf_dir=write_env(tmp_path, "tierz: 1\n"))


@pytest.mark.parametrize("text, key", [
    ("quality:\n  max_bad_share: 1.5\n", "quality.max_bad_share"),
    ("quality:\n  min_volume_share: -0.1\n", "quality.min_volume_share"),
    ("source:\n  format: xlsx\n", "source.format"),
    ("database: Wealth-DB\n", "database"),
    ("ledger_start: 2019-13\n", "ledger_start"),
    ("customers_sample: 0.00005\n", "customers_sample"),
    ("backfill_pass_rows: 0\n", "backfill_pass_rows"),
    ("backfill_pass_rows: 1.5e7\n", "backfill_pass_rows"),
    ("spark:\n  packages: [io.delta]\n", "spark.packages"),
    ("uplift:\n  als_rank: 6\n", "uplift.als_rank"),
    ("uplift:\n  min_score: 2\n", "uplift.min_score"),
    ("uplift:\n  k: 0\n", "uplift.k"),
    ("graph:\n  engine: networkx\n", "graph.engine"),
    ("graph:\n  packages: yes please\n", "graph.packages"),
    ("acquisition:\n  window_months: 0\n", "acquisition.window_months"),
    ("acquisition:\n  min_amount: -1\n", "acquisition.min_amount"),
    ("report:\n  sample_rows: 0\n", "report.sample_rows"),
    ("tables:\n  deleted_file_retention_days: 6\n", "tables.deleted_file_retention_days"),
    ("tables:\n  log_retention_days: 7.5\n", "tables.log_retention_days"),
    ("export:\n  capacity: 0\n", "export.capacity"),
])
def test_bad_value_is_named(tmp_path, text, key):
    with pytest.raises(ConfigError, match=f"bad value for '{key}'"):
        load_conf("t", conf_dir=write_env(tmp_path, text))


def test_unknown_environment():
    with pytest.raises(ConfigError, match="unknown environment 'prod'.*known: .*local"):
        load_conf("prod")


def test_flags_override_files():
    args = job_parser("x", "x").parse_args(["--month", "2019-03", "--warehouse", "/w", "--database", "w2"])
    conf = load_conf(args.env, {"paths.warehouse": args.warehouse, "database": args.database})
    assert (conf.paths.warehouse, conf.database, conf.table("t")) == ("/w", "w2", "w2.t")


def test_a_jobs_own_flag_is_not_read_as_an_abbreviated_common_flag():
    """scripts/submit.sh reads the common flags out of generate's --customers 5000."""
    args, rest = job_parser("submit", "", needs_month=False).parse_known_args(["--customers", "5000", "--months", "12"])
    assert args.customers_sample is None and rest == ["--customers", "5000", "--months", "12"]
    assert submit_args(["--customers", "5000", "--months", "12"], "local[1]")[:2] == ["--master", "local[1]"]


@pytest.mark.parametrize("month", ["2019-13", "2019-1", "201901"])
def test_month_flag_is_checked(month, capsys):
    with pytest.raises(SystemExit):
        job_parser("x", "x").parse_args(["--month", month])
    assert "is not a month of the form YYYY-MM" in capsys.readouterr().err


def test_article_preset_over_an_environment():
    conf = load_conf("local", preset="article_monthly")
    assert (conf.retention.population_min_aum, conf.retention.horizon) == (200_000, 1)
    assert conf.spark.master == load_conf("local").spark.master
    with pytest.raises(ConfigError, match="unknown preset 'x'.*known: article_monthly"):
        load_conf("local", preset="x")


JOBS = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "jobs").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("job", JOBS)
@pytest.mark.parametrize("flags, reason", [
    (["--env", "prod"], "unknown environment 'prod': no "),
    (["--database", "x;y"], "bad value for 'database': 'x;y' is not a lower_snake_case name"),
    (["--customers-sample", "1.5"], "bad value for 'customers_sample': 1.5 is not null or a share in (0, 1]"),
])
def test_a_missing_or_invalid_conf_exits_2_with_one_line_before_spark(job, flags, reason, capsys):
    with pytest.raises(SystemExit) as ended:
        importlib.import_module(f"jobs.{job}").main(["--month", "2019-01", *flags])
    err = capsys.readouterr().err
    assert ended.value.code == 2 and err.startswith(f"jobs/{job}.py: ") and reason in err
    assert err.count("\n") == 1


def test_a_job_run_as_a_module_with_an_unknown_env_exits_2():
    run = subprocess.run([sys.executable, "-m", "jobs.ingest", "--month", "2019-01", "--env", "prod"],
                         cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, check=False)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.splitlines() == [run.stderr.strip()] and "unknown environment 'prod'" in run.stderr
