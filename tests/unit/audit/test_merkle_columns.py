"""Hashing a column at a time gives RFC 6962's hashes: the reference vectors, and the one-hash-a-call
functions of merkle.py for any text, any count and any slice of a column."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from merkle_support import LEAVES, ROOTS

from shadan.audit.merkle import leaf_hash, node_hash, subtree_levels
from shadan.audit.merkle_columns import (
    datafusion,
    leaf_hash_column,
    node_hash_column,
    subtree_level_columns,
)

# Arrow text holds what UTF-8 can: no lone surrogates.
TEXTS = st.lists(st.text(st.characters(codec="utf-8")), max_size=40)


def test_the_reference_tree_of_rfc_6962() -> None:
    entries = pa.array([leaf.decode("utf-8") for leaf in LEAVES])  # the vectors' leaves are all text
    levels = subtree_level_columns(leaf_hash_column(entries), 3)
    assert levels[0].to_pylist() == [leaf_hash(leaf) for leaf in LEAVES]
    assert [levels[level][0].as_py().hex() for level in range(4)] == [
        leaf_hash(LEAVES[0]).hex(),
        ROOTS[1],
        ROOTS[3],
        ROOTS[7],
    ]


@given(TEXTS)
def test_leaf_hashes_are_those_of_one_entry_a_call(texts: list[str]) -> None:
    expected = [leaf_hash(text.encode("utf-8")) for text in texts]
    assert leaf_hash_column(pa.array(texts, pa.string())).to_pylist() == expected
    assert leaf_hash_column(pa.array(texts, pa.large_string())).to_pylist() == expected


@given(st.lists(st.binary(), max_size=40))
def test_entries_as_bytes_hash_as_they_are(entries: list[bytes]) -> None:
    expected = [leaf_hash(entry) for entry in entries]  # a tampered archive's bytes need not be UTF-8
    assert leaf_hash_column(pa.array(entries, pa.binary())).to_pylist() == expected
    assert leaf_hash_column(pa.array(entries, pa.large_binary())).to_pylist() == expected


@given(TEXTS, st.integers(0, 40), st.integers(0, 6))
def test_levels_are_those_of_one_node_a_call(texts: list[str], skip: int, top: int) -> None:
    leaves = leaf_hash_column(pa.array(texts, pa.string())).slice(min(skip, len(texts)))
    expected = subtree_levels(leaves.to_pylist(), top)
    assert [level.to_pylist() for level in subtree_level_columns(leaves, top)] == expected


def test_an_odd_last_hash_has_no_parent_yet() -> None:
    hashes = [bytes([n]) * 32 for n in range(3)]
    assert node_hash_column(pa.array(hashes, pa.binary())).to_pylist() == [node_hash(hashes[0], hashes[1])]


def test_a_missing_entry_is_refused_not_hashed_as_empty_text() -> None:
    with pytest.raises(ValueError, match="entry is missing"):
        leaf_hash_column(pa.array(["{}", None], pa.string()))


def test_entries_must_be_text_or_bytes() -> None:
    with pytest.raises(TypeError, match="must be text or bytes"):
        leaf_hash_column(pa.array([1, 2], pa.int64()))


@pytest.mark.parametrize(
    ("hashes", "message"),
    [([b"\x01" * 31, b"\x02" * 32], "widths must match"), ([b"\x01" * 32, None], "hash is missing")],
)
def test_a_hash_of_the_wrong_length_or_missing_is_refused(hashes: list[bytes | None], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        node_hash_column(pa.array(hashes, pa.binary()))


def test_hashing_keeps_no_column_once_done() -> None:
    """DataFusion's from_arrow names each column it is given in the context: a worker hashing chunk
    after chunk would otherwise hold every chunk's entries until it ends."""
    subtree_level_columns(leaf_hash_column(pa.array(["{}"] * 9)), 3)
    assert datafusion().session.catalog().schema().table_names() == set()
