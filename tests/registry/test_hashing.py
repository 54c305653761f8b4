from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from registry.hashing import dataframe_schema, dataframe_sha256


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a-1", "a-2", "a-3", "a-4"],
            "age": [21, 35, 47, 18],
            "score": [0.5, np.nan, 1.25, -3.0],
            "flag": [True, False, True, True],
        }
    )


def test_hash_is_hex_sha256(frame):
    digest = dataframe_sha256(frame)
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_same_data_with_another_index_has_the_same_hash(frame):
    reindexed = frame.set_axis([10, 20, 30, 40], axis="index")
    labelled = frame.set_axis(list("wxyz"), axis="index").rename_axis("row")
    assert dataframe_sha256(reindexed) == dataframe_sha256(frame)
    assert dataframe_sha256(labelled) == dataframe_sha256(frame)


def test_a_slice_or_a_copy_in_another_memory_layout_has_the_same_hash(frame):
    bigger = pd.concat([frame, frame.iloc[:1]], ignore_index=True)
    fortran = pd.DataFrame(np.asfortranarray(frame[["age"]].to_numpy()), columns=["age"])
    assert dataframe_sha256(bigger.iloc[:4]) == dataframe_sha256(frame)
    assert dataframe_sha256(frame.copy(deep=True)) == dataframe_sha256(frame)
    assert dataframe_sha256(fortran) == dataframe_sha256(frame[["age"]])


def test_column_order_is_irrelevant(frame):
    assert dataframe_sha256(frame[["score", "flag", "id", "age"]]) == dataframe_sha256(frame)


def test_row_order_matters(frame):
    assert dataframe_sha256(frame.iloc[::-1]) != dataframe_sha256(frame)


@pytest.mark.parametrize(
    ("column", "row", "value"),
    [("age", 2, 48), ("id", 0, "a-9"), ("score", 1, 0.0), ("flag", 3, False)],
)
def test_a_changed_cell_changes_the_hash(frame, column, row, value):
    changed = frame.copy()
    changed.loc[row, column] = value
    assert dataframe_sha256(changed) != dataframe_sha256(frame)


def test_a_renamed_column_changes_the_hash(frame):
    assert dataframe_sha256(frame.rename(columns={"age": "age_years"})) != dataframe_sha256(frame)


def test_a_dtype_change_changes_the_hash(frame):
    assert dataframe_sha256(frame.astype({"age": "int32"})) != dataframe_sha256(frame)
    assert dataframe_sha256(frame.astype({"age": "float64"})) != dataframe_sha256(frame)
    assert dataframe_sha256(frame.astype({"id": "category"})) != dataframe_sha256(frame)


def test_an_added_row_or_column_changes_the_hash(frame):
    assert dataframe_sha256(frame.iloc[:3]) != dataframe_sha256(frame)
    assert dataframe_sha256(frame.assign(extra=1)) != dataframe_sha256(frame)


def test_matches_the_documented_definition(frame):
    """Recomputes the hash step by step from the module docstring, as another client would."""
    expected = hashlib.sha256()
    expected.update(b"gov-df-sha256-v1\n")
    expected.update(b"4\n")
    for name in sorted(frame.columns):
        header = json.dumps([name, str(frame[name].dtype)], ensure_ascii=False, separators=(",", ":"))
        expected.update(header.encode() + b"\n")
        hashes = pd.util.hash_pandas_object(
            frame[name], index=False, encoding="utf8", hash_key="0123456789123456", categorize=True
        )
        expected.update(b"".join(int(h).to_bytes(8, "little") for h in hashes))
    assert dataframe_sha256(frame) == expected.hexdigest()


def test_empty_frames_are_hashed_by_their_columns_and_rows():
    assert dataframe_sha256(pd.DataFrame()) != dataframe_sha256(pd.DataFrame(index=range(3)))
    assert dataframe_sha256(pd.DataFrame({"a": []})) != dataframe_sha256(pd.DataFrame({"b": []}))


def test_non_string_or_duplicate_column_names_are_refused():
    with pytest.raises(TypeError, match="strings"):
        dataframe_sha256(pd.DataFrame({0: [1]}))
    with pytest.raises(ValueError, match="unique"):
        dataframe_sha256(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_schema_maps_columns_to_dtype_strings(frame):
    assert dataframe_schema(frame) == {"id": str(frame["id"].dtype), "age": "int64", "score": "float64", "flag": "bool"}
    assert list(dataframe_schema(frame)) == ["id", "age", "score", "flag"]
