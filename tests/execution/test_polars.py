"""Polars in and out, and DuckDB relations out, through the real materializer."""

from __future__ import annotations

import pyarrow as pa

from partita.execution.io import input_kind, to_arrow


def test_polars_annotations_are_recognized_as_classes_and_as_text() -> None:
    import polars as pl

    assert input_kind(pl.DataFrame) == "polars"
    assert input_kind(pl.LazyFrame) == "polars_lazy"
    assert input_kind("pl.DataFrame") == "polars"
    assert input_kind("polars.LazyFrame") == "polars_lazy"
    assert input_kind("DataFrame") == "pandas"


def test_polars_frames_and_duckdb_relations_become_arrow() -> None:
    import duckdb
    import polars as pl

    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert to_arrow("x", None, frame).to_pydict() == {"a": [1, 2], "b": ["x", "y"]}
    assert to_arrow("x", None, frame.lazy().filter(pl.col("a") > 1)).num_rows == 1
    with duckdb.connect() as connection:
        relation = connection.sql("SELECT 42 AS answer")
        assert to_arrow("x", None, relation) == pa.table({"answer": pa.array([42], pa.int32())})


def test_a_polars_pipeline_materializes_and_reads_back(project) -> None:
    project.write(
        "assets/p.py",
        """
        from __future__ import annotations

        import duckdb
        import polars as pl
        from partita import StaticPartitions, asset

        REGIONS = StaticPartitions(["eu", "us"])

        @asset(partitions=REGIONS)
        def sales(context) -> pl.DataFrame:
            return pl.DataFrame({"region": [context.partition_key] * 3, "amount": [1.0, 2.0, 3.0]})

        @asset(partitions=REGIONS)
        def totals(sales: pl.LazyFrame) -> pl.LazyFrame:
            assert isinstance(sales, pl.LazyFrame)
            return sales.group_by("region").agg(pl.col("amount").sum().alias("total"))

        @asset(partitions=REGIONS)
        def doubled(totals: pl.DataFrame, context) -> duckdb.DuckDBPyRelation:
            assert isinstance(totals, pl.DataFrame)
            connection = duckdb.connect()
            return connection.sql("SELECT region, total * 2 AS doubled FROM totals")
        """,
    )
    result = project.cli("materialize", "--workers", "2", "--json", check=0)
    assert result.json()["counts"]["materialized"] == 6
    table = project.load().read("doubled", ("eu", "us"))
    assert sorted(table["doubled"].tolist()) == [12.0, 12.0]
    again = project.cli("materialize", "--json", check=0)
    assert again.json()["counts"].get("materialized", 0) == 0
