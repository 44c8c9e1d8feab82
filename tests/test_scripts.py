"""The scripts under scripts/ are run by hand, not by the tests: each must at least load,
so a module moved in lib/ cannot leave a benchmark that fails on its first line."""
import importlib.util
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parent.parent / "scripts").glob("*.py"))


def test_every_python_script_is_found():
    assert {p.stem for p in SCRIPTS} >= {"bench_aum", "bench_churn", "bench_graph", "bench_monthly", "bench_uplift",
                                         "faults"}


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_script_loads_and_has_a_main(path):
    spec = importlib.util.spec_from_file_location(f"script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)     # its imports; main() runs only under __main__
    assert callable(module.main)
