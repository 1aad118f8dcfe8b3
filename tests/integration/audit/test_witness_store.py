"""The witness's home on disk: its key file (0600, never replaced by `init`), its own SQLite state made with
create_all, the compare-and-set that keeps a slow request from rolling a log back, and split views kept
once. The witness always uses its own SQLite file, whatever database shadan uses."""

from __future__ import annotations

import datetime as dt
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from shadan.audit.checkpoint import Checkpoint, sign_checkpoint
from shadan.audit.cosignature import witness_verifier
from shadan.audit.merkle import EMPTY_ROOT
from shadan.audit.note import Signer
from shadan.audit.witness_key_file import KEY_FILE, PUBLIC_FILE, WitnessKeyFile
from shadan.audit.witness_store import DATABASE_FILE, SqlWitnessStore
from shadan.bootstrap import build_witness
from shadan.domain.errors import InvalidInput
from shadan.services.witness import (
    AddCheckpoint,
    KeyEvent,
    Refusal,
    SplitView,
    TreeHead,
    Witnessed,
    WitnessNotReady,
    WitnessRefused,
)

ORIGIN = "operator.example/access-log/0001"
NOW = dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC)


def witnessed(size: int, root: bytes) -> Witnessed:
    text = Checkpoint(ORIGIN, size, root).text()
    return Witnessed(TreeHead(ORIGIN, size, root, text), text + "\n— sig\n", NOW)


@pytest.fixture
def store(tmp_path: Path) -> SqlWitnessStore:
    store = SqlWitnessStore.in_home(tmp_path)
    store.create()
    store.trust(ORIGIN, "key-1", NOW)
    return store


def test_the_schema_is_the_witness_own(tmp_path: Path, store: SqlWitnessStore) -> None:
    store.create()  # idempotent
    engine = create_engine(f"sqlite:///{tmp_path / DATABASE_FILE}")
    assert set(inspect(engine).get_table_names()) == {
        "witness_logs",
        "witness_log_keys",
        "witness_split_views",
        "witness_key_changes",
    }
    engine.dispose()


def test_trusting_a_key_twice_adds_it_once(store: SqlWitnessStore) -> None:
    assert store.trust(ORIGIN, "key-1", NOW) is False
    assert store.trust(ORIGIN, "key-2", NOW) is True
    assert store.log_keys(ORIGIN) == ("key-1", "key-2")
    assert store.log_keys("other") == ()
    assert store.log_count() == 1


def test_the_latest_checkpoint_moves_only_from_what_was_read(store: SqlWitnessStore) -> None:
    assert store.latest(ORIGIN) is None
    first = witnessed(4, bytes([1]) * 32)
    assert store.advance(ORIGIN, None, first)
    assert store.latest(ORIGIN) == first
    assert not store.advance(ORIGIN, None, witnessed(2, bytes([2]) * 32))  # a request that read "empty"

    larger, slower = witnessed(8, bytes([3]) * 32), witnessed(6, bytes([4]) * 32)
    assert store.advance(ORIGIN, first, larger)
    # The spec's race: a request checked against size 4 finishes after one that moved to 8.
    assert not store.advance(ORIGIN, first, slower)
    assert store.latest(ORIGIN) == larger


def test_a_split_view_is_kept_once(store: SqlWitnessStore) -> None:
    split = SplitView(ORIGIN, 4, "witnessed\n", "presented\n", NOW)
    assert store.record_split_view(split)
    assert not store.record_split_view(SplitView(ORIGIN, 4, "witnessed\n", "presented\n", NOW))
    assert store.record_split_view(SplitView(ORIGIN, 4, "witnessed\n", "another fork\n", NOW))
    assert store.split_views()[0] == split
    assert len(store.split_views()) == 2


def test_witnesses_starting_at_once_record_a_found_key_once(tmp_path: Path) -> None:
    SqlWitnessStore.in_home(tmp_path).create()
    stores = [SqlWitnessStore.in_home(tmp_path) for _ in range(8)]
    start = threading.Barrier(len(stores))

    def start_witness(store: SqlWitnessStore) -> None:
        start.wait()
        store.record_keys_found(("key-a", "key-b"), NOW)

    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(start_witness, stores))
    history = stores[0].key_changes()
    assert sorted((c.verifier_key, c.event) for c in history) == [
        ("key-a", KeyEvent.FOUND),
        ("key-b", KeyEvent.FOUND),
    ]
    assert {c.at for c in history} == {NOW}
    stores[0].record_keys_found(("key-a", "key-c"), NOW)  # a later start adds only the new key
    assert [c.verifier_key for c in stores[0].key_changes()][2:] == ["key-c"]


def test_the_key_file_is_private_and_never_replaced(tmp_path: Path) -> None:
    home = tmp_path / "witness"
    key = WitnessKeyFile(home)
    with pytest.raises(WitnessNotReady):
        key.verifier_keys()
    public = key.create("witness.example.jp/egc")
    assert stat.S_IMODE((home / KEY_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert (home / PUBLIC_FILE).read_text() == public + "\n"
    assert witness_verifier(public).name == "witness.example.jp/egc"
    with pytest.raises(InvalidInput, match="既に"):
        WitnessKeyFile(home).create("witness.example.jp/other")
    assert WitnessKeyFile(home).verifier_keys() == (public,)
    with pytest.raises(InvalidInput):
        WitnessKeyFile(tmp_path / "bad").create("has space")


def test_a_broken_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE).write_text("PRIVATE+KEY+garbage\n")
    with pytest.raises(WitnessNotReady, match="形式"):
        WitnessKeyFile(tmp_path).verifier_keys()


def test_the_built_witness_cosigns_and_keeps_its_state_across_restarts(tmp_path: Path) -> None:
    home = tmp_path / "witness"
    log = Signer.generate(ORIGIN)
    witness = build_witness(home, clock=lambda: NOW)
    witness.init("witness.example.jp/egc")
    witness.trust(log.verifier.text())
    head = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), [log]).render()
    assert witness.add_checkpoint(AddCheckpoint(0, (), head).render()).head.size == 0

    restarted = build_witness(home, clock=lambda: NOW)
    assert restarted.status().logs == 1
    with pytest.raises(WitnessRefused) as refused:
        restarted.add_checkpoint(AddCheckpoint(3, (), head).render())
    assert refused.value.refusal is Refusal.MALFORMED  # old 3 > size 0, and the witness holds size 0
