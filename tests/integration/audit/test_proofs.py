"""Proof files: every event's proof is accepted by shadan's checker and by the independent verifier;
consistency proofs hold between every pair of stored checkpoints."""

from __future__ import annotations

import itertools
import json

import independent_verifier
import pytest
from audit_support import append
from sqlalchemy import Engine, select

from shadan.audit.checkpoint import Checkpoint
from shadan.audit.merkle import consistency_proof, verify_consistency
from shadan.audit.proof_checker import TlogProofChecker
from shadan.audit.tree_store import node_reader
from shadan.audit.tree_tables import log_checkpoints
from shadan.domain.errors import NotFound
from shadan.services.audit_log import AuditLogService


def test_every_event_proof_is_accepted_by_both_verifiers(engine: Engine, service: AuditLogService) -> None:
    append(engine, 1, 13)
    key = service.public_key()
    for seq in range(1, 14):
        text = service.proof(seq)
        entry = independent_verifier.verify(text, key)
        assert json.loads(entry)["seq"] == seq
        checked = TlogProofChecker().check(text.encode(), [key])
        assert checked.entry == entry
        assert checked.leaf_index == seq - 1
        assert checked.tree_size == 13


def test_a_proof_for_a_new_event_signs_a_covering_checkpoint(
    engine: Engine, service: AuditLogService
) -> None:
    append(engine, 1, 3)
    service.checkpoint()
    append(engine, 4, 1)
    text = service.proof(4)
    assert "\n4\n" in text.split("\n\n", 1)[1]
    assert service.latest_checkpoint().size == 4
    before = service.latest_checkpoint()
    service.proof(2)  # already covered: no new signature
    assert service.latest_checkpoint() == before


def test_the_independent_verifier_rejects_a_tampered_proof(engine: Engine, service: AuditLogService) -> None:
    append(engine, 1, 5)
    good = service.proof(3)
    key = service.public_key()
    lines = good.split("\n")
    for bad in (
        good.replace("index 2", "index 3"),
        good.replace(lines[3], lines[4]),
        good.replace("\n5\n", "\n6\n"),
    ):
        with pytest.raises(independent_verifier.Rejected):
            independent_verifier.verify(bad, key)


def test_an_unknown_event_has_no_proof(service: AuditLogService) -> None:
    with pytest.raises(NotFound):
        service.proof(99)


def test_consistency_between_every_pair_of_checkpoints(engine: Engine, service: AuditLogService) -> None:
    for first in (1, 2, 6, 7, 16, 29):
        append(engine, first, 1 if first in (1, 2) else first - 5)
        service.checkpoint()
    with engine.connect() as connection:
        heads = [
            Checkpoint.parse(note.split("\n\n")[0] + "\n")
            for note in connection.execute(
                select(log_checkpoints.c.note).order_by(log_checkpoints.c.tree_size)
            ).scalars()
        ]
        read = node_reader(connection)
        for old, new in itertools.combinations(heads, 2):
            proof = consistency_proof(old.size, new.size, read)
            verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
