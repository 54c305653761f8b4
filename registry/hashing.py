r"""Canonical content hash and schema of a pandas DataFrame (the `content_sha256` of a data version).

Clients compute these before registering a data version, so the definition below is a
contract: the JupyterLab client reimplements it from this docstring, and a change to it
needs a new version tag.

`dataframe_sha256(df)`, version tag `gov-df-sha256-v1`, is the lowercase hex SHA-256 of
these bytes, in this order:

1. the ASCII header ``gov-df-sha256-v1\n``;
2. the row count as ASCII decimal digits followed by ``\n``;
3. for each column, in ascending order of its name (names compared as Python ``str``,
   i.e. by code point; names must be unique strings):

   a. the UTF-8 bytes of the JSON array ``[name, dtype]`` written with
      ``json.dumps([name, dtype], ensure_ascii=False, separators=(",", ":"))``, where
      ``dtype`` is ``str(df[name].dtype)`` (for example ``"int64"``, ``"float64"``, ``"str"``,
      ``"object"``, ``"category"``, ``"datetime64[ns, UTC]"``), followed by ``\n``;
   b. the per-row hashes of the column's values in row order, one unsigned 64-bit integer per
      row written little-endian (8 bytes each): the result of
      ``pandas.util.hash_pandas_object(df[name], index=False, encoding="utf8",
      hash_key="0123456789123456", categorize=True)``.

So the hash depends on the values, their row order, the column names and the dtypes; it does
not depend on the index (labels, name, type), on the order of the columns, or on the memory
layout of the frame (a copy, a slice, a Fortran-ordered block: same hash). Missing values hash
as pandas hashes them (NaN, None and NaT each hash consistently).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

HASH_VERSION = "gov-df-sha256-v1"
HASH_KEY = "0123456789123456"  # pandas' default key, spelled out because the hash depends on it


def _column_names(df: pd.DataFrame) -> list[str]:
    names = list(df.columns)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"column names must be strings, got {type(name).__name__}")
    if len(set(names)) != len(names):
        raise ValueError("column names must be unique")
    return names


def dataframe_sha256(df: pd.DataFrame) -> str:
    """The canonical content hash of a DataFrame; the definition is in this module's docstring."""
    names = _column_names(df)
    digest = hashlib.sha256()
    digest.update(f"{HASH_VERSION}\n".encode())
    digest.update(f"{len(df)}\n".encode())
    for name in sorted(names):
        column = df[name]
        header = json.dumps([name, str(column.dtype)], ensure_ascii=False, separators=(",", ":"))
        digest.update(header.encode() + b"\n")
        row_hashes = pd.util.hash_pandas_object(
            column, index=False, encoding="utf8", hash_key=HASH_KEY, categorize=True
        ).to_numpy(dtype=np.uint64)
        digest.update(row_hashes.astype("<u8", copy=False).tobytes())
    return digest.hexdigest()


def dataframe_schema(df: pd.DataFrame) -> dict[str, str]:
    """The columns of a DataFrame and their dtypes, `{name: str(dtype)}`, in the frame's column order."""
    return {name: str(df[name].dtype) for name in _column_names(df)}
