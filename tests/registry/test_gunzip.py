"""registry.inputs.gunzip_bounded, the one inflater of gzip bodies (OTLP, OpenLineage): any split of any
members inflates to their concatenation; past the limit, truncated or not gzip, it refuses."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.inputs import GzipInvalid, GzipTooLarge, gunzip_bounded


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


@given(st.lists(st.binary(max_size=3000), min_size=1, max_size=4), st.lists(st.integers(0, 10**6), max_size=6))
def test_members_in_any_chunks_inflate_to_their_concatenation(members, cuts):
    body = b"".join(gzip.compress(m) for m in members)
    assert gunzip_bounded(_chunks(body, cuts), 10**6) == b"".join(members)


def test_a_bomb_stops_one_byte_past_the_limit():
    bomb = gzip.compress(b"\0" * 50_000_000)
    with pytest.raises(GzipTooLarge):
        gunzip_bounded([bomb[i : i + 4096] for i in range(0, len(bomb), 4096)], 1_000_000)
    assert gunzip_bounded([gzip.compress(b"x" * 1000)], 1000) == b"x" * 1000


@pytest.mark.parametrize("body", [b"", b"not gzip", gzip.compress(b"abc" * 100)[:-9], gzip.compress(b"a") + b"junk"])
def test_truncated_or_foreign_bodies_are_refused(body):
    with pytest.raises(GzipInvalid):
        gunzip_bounded([body], 10**6)
