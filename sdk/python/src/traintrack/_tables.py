"""pandas and Parquet, imported only when a DataFrame is used (the SDK's ``[pandas]`` extra)."""

from __future__ import annotations

import importlib
from typing import IO, TYPE_CHECKING, Any, Union, cast

from .errors import InvalidArgument

if TYPE_CHECKING:
    import pandas

#: Formats ``to_pandas`` and ``transform`` can read (and write back).
TABULAR = ("parquet", "csv", "tsv", "json", "jsonl")


def pandas_module() -> Any:
    """The pandas module, or an ImportError that says how to install it."""
    try:
        import pandas

        importlib.import_module("pyarrow")  # the Parquet engine
    except ImportError as error:
        raise ImportError(
            "DataFrames need pandas and pyarrow, the SDK's [pandas] extra: "
            "pip install './sdk/python[pandas]' from a Traintrack clone"
        ) from error
    return pandas


def write_table(df: "pandas.DataFrame", path: str, fmt: str) -> None:
    """Writes ``df`` to ``path`` in ``fmt`` (one of TABULAR)."""
    pandas_module()
    if fmt == "parquet":
        df.to_parquet(path, engine="pyarrow")
    elif fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "tsv":
        df.to_csv(path, index=False, sep="\t")
    elif fmt == "json":
        df.to_json(path, orient="records")
    elif fmt == "jsonl":
        df.to_json(path, orient="records", lines=True)
    else:
        raise InvalidArgument(f"cannot write a DataFrame as {fmt!r}; supported: {', '.join(TABULAR)}")


def read_table(source: Union[str, IO[bytes]], fmt: str) -> "pandas.DataFrame":
    """Reads a DataFrame in ``fmt`` from a path or binary stream."""
    pd = pandas_module()
    if fmt == "parquet":
        df = pd.read_parquet(source, engine="pyarrow")
    elif fmt == "csv":
        df = pd.read_csv(source)
    elif fmt == "tsv":
        df = pd.read_csv(source, sep="\t")
    elif fmt == "json":
        df = pd.read_json(source, orient="records")
    elif fmt == "jsonl":
        df = pd.read_json(source, orient="records", lines=True)
    else:
            raise InvalidArgument(f"cannot load a {fmt!r} artefact into pandas; supported formats: {', '.join(TABULAR)}")
    return cast("pandas.DataFrame", df)
