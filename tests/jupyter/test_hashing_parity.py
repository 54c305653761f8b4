"""The extension's DataFrame hash, schema and profile are the service's, on a real data set.

The extension must not import the Django apps, so it carries its own copy; this test (which may import
both) proves the copy gives the same digest, schema and profile as registry.hashing / registry.profiles.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from governance_jupyter import hashing, profiles

from registry import hashing as service_hashing
from registry import profiles as service_profiles


def variants(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    with_missing = frame.copy()
    with_missing.loc[::7, "age"] = np.nan
    with_missing.loc[::11, "employed"] = None
    categorical = frame.astype({"colour": "category", "sex": "category"})
    categorical["when"] = pd.to_datetime(frame["year"].astype(str) + "-06-30", utc=True)
    categorical["flag"] = frame["citizen"] == "Yes"
    many = frame.copy()
    many["bucket"] = [f"b{i % 250}" for i in range(len(frame))]  # > 100 categories: "__other__"
    return {
        "arrests": frame,
        "missing values": with_missing,
        "category, datetime, bool": categorical,
        "many categories": many,
        "reordered and sliced": frame.iloc[100:900, ::-1].reset_index(drop=True),
        "empty": frame.iloc[:0],
    }


def test_hash_and_schema_equal_the_service(arrests):
    for name, frame in variants(arrests).items():
        assert hashing.dataframe_sha256(frame) == service_hashing.dataframe_sha256(frame), name
        assert hashing.dataframe_schema(frame) == service_hashing.dataframe_schema(frame), name


def test_profile_equals_the_service(arrests):
    for name, frame in variants(arrests).items():
        assert profiles.dataframe_profile(frame) == service_profiles.dataframe_profile(frame), name
    features = ["employed", "citizen", "year", "age", "checks"]
    assert profiles.dataframe_profile(arrests[features], bins=5, seed=3) == service_profiles.dataframe_profile(
        arrests[features], bins=5, seed=3
    )


def test_large_numeric_column_is_sampled_identically():
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"score": rng.normal(size=12_000), "n": rng.integers(0, 5, size=12_000)})
    ours, theirs = profiles.dataframe_profile(frame), service_profiles.dataframe_profile(frame)
    assert len(ours["columns"]["score"]["sample"]) == profiles.SAMPLE_SIZE
    assert ours == theirs


def test_hash_refuses_what_the_service_refuses():
    with pytest.raises(TypeError):
        hashing.dataframe_sha256(pd.DataFrame({0: [1]}))
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ValueError, match="unique"):
        hashing.dataframe_sha256(frame)


def test_extension_imports_no_django_app():
    import subprocess
    import sys

    code = (
        "import sys, governance_jupyter, governance_jupyter.client, governance_jupyter.register, "
        "governance_jupyter.magics, governance_jupyter.kernel, governance_jupyter.context\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('django', 'registry', 'governance', 'llmops', 'config', 'jupyter_server', 'tornado'))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip() == ""
