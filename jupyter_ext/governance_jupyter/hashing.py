"""The service's canonical DataFrame hash (`gov-df-sha256-v1`) and schema, reimplemented without Django.

The definition is the service's (registry/hashing.py); a test asserts that both give the same digest
on a real data set. In short: SHA-256 over a header, the row count, then for each column in sorted
name order its `[name, dtype]` JSON line and its pandas row hashes (uint64, little-endian).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

HASH_VERSION = "gov-df-sha256-v1"
HASH_KEY = "0123456789123456"


def _column_names(df: pd.DataFrame) -> list[str]:
    names = list(df.columns)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"column names must be strings, got {type(name).__name__}")
    if len(set(names)) != len(names):
        raise ValueError("column names must be unique")
    return names


def dataframe_sha256(df: pd.DataFrame) -> str:
    import numpy as np
    import pandas as pd

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
    """`{column: str(dtype)}` in the frame's column order."""
    return {name: str(df[name].dtype) for name in _column_names(df)}


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
