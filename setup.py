from setuptools import find_packages, setup

setup(
    name="wealth-mining",
    version="0.1.0",
    description="Mines a province's wealth customers from the full account ledger (PySpark, Delta Lake)",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["lib", "lib.*", "jobs", "jobs.*"]),
    install_requires=[
        "pyspark[ml]==4.1.4",
        "delta-spark==4.4.0",       # the JVM side is pinned in conf/base.yaml (spark.packages)
        "graphframes-py==0.12.2",
        "pyarrow==21.0.0",
        "pandas==2.3.3",            # pandas 3 is unsupported before Spark 4.3
        "pyyaml==6.0.3",
        "matplotlib==3.10.7",       # the monthly report's charts
        "openpyxl==3.1.5",          # the branches' workbooks (jobs/export.py)
    ],
    extras_require={
        "test": ["pytest==8.4.2", "chispa==0.11.1", "deltalake==1.2.1", "networkx==3.5",
                 "scikit-learn==1.7.2", "ruff==0.17.6"],
        "bench": ["duckdb==1.4.1"],
    },
)
