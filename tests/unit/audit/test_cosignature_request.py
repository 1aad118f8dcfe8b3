"""The tlog-witness add-checkpoint request body and the 409 size body: well-formed ones round-trip, and
every malformed one is refused as MALFORMED (HTTP 400) before anything is checked or stored."""

from __future__ import annotations

import base64

import pytest

from shadan.services.witness import (
    MAX_PROOF_LINES,
    MAX_REQUEST_BYTES,
    AddCheckpoint,
    Refusal,
    WitnessRefused,
    parse_size_body,
    size_body,
)

CHECKPOINT = "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n— example.com/log AAAA\n"
HASH = base64.b64encode(bytes(range(32))).decode()


def test_a_request_round_trips() -> None:
    body = f"old 3\n{HASH}\n{HASH}\n\n{CHECKPOINT}".encode()
    request = AddCheckpoint.parse(body)
    assert request.old_size == 3
    assert request.proof == (bytes(range(32)), bytes(range(32)))
    assert request.checkpoint == CHECKPOINT
    assert request.render() == body


def test_old_zero_without_proof_is_the_first_request() -> None:
    request = AddCheckpoint.parse(f"old 0\n\n{CHECKPOINT}".encode())
    assert (request.old_size, request.proof) == (0, ())
    assert AddCheckpoint(0, (), CHECKPOINT).render() == f"old 0\n\n{CHECKPOINT}".encode()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 3\n",
        f"old 3\n{HASH}\n{CHECKPOINT}".encode(),  # no blank line before the checkpoint
        b"old 3\n\n",  # no checkpoint
        f"old 03\n\n{CHECKPOINT}".encode(),  # leading zero
        f"old -1\n\n{CHECKPOINT}".encode(),
        f"old +1\n\n{CHECKPOINT}".encode(),
        f"old 1 \n\n{CHECKPOINT}".encode(),
        f"Old 1\n\n{CHECKPOINT}".encode(),
        f"old  1\n\n{CHECKPOINT}".encode(),
        f"old\n\n{CHECKPOINT}".encode(),
        f"old 1.0\n\n{CHECKPOINT}".encode(),
        f"old ０\n\n{CHECKPOINT}".encode(),  # full-width digit: not ASCII decimal
        f"old 99999999999999999999\n\n{CHECKPOINT}".encode(),  # beyond 64 bits
        f"old 3\nnot base64!\n\n{CHECKPOINT}".encode(),
        f"old 3\n{base64.b64encode(bytes(31)).decode()}\n\n{CHECKPOINT}".encode(),
        f"old 3\n{base64.b64encode(bytes(33)).decode()}\n\n{CHECKPOINT}".encode(),
        f"old 3\n{HASH[:-1]}\n\n{CHECKPOINT}".encode(),  # bad padding
        f"old 3\n{HASH} \n\n{CHECKPOINT}".encode(),
        b"old 3\n\n\xff\xfe\n",  # not UTF-8
    ],
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(WitnessRefused) as refused:
        AddCheckpoint.parse(body)
    assert refused.value.refusal is Refusal.MALFORMED
    assert refused.value.refusal.http_status == 400


def test_at_most_63_proof_lines() -> None:
    proof = "".join(f"{HASH}\n" for _ in range(MAX_PROOF_LINES))
    assert len(AddCheckpoint.parse(f"old 3\n{proof}\n{CHECKPOINT}".encode()).proof) == MAX_PROOF_LINES
    with pytest.raises(WitnessRefused, match="63"):
        AddCheckpoint.parse(f"old 3\n{proof}{HASH}\n\n{CHECKPOINT}".encode())


def test_an_oversized_body_is_refused_unread() -> None:
    with pytest.raises(WitnessRefused) as refused:
        AddCheckpoint.parse(b"old 0\n\n" + b"x" * MAX_REQUEST_BYTES)
    assert refused.value.refusal is Refusal.MALFORMED


def test_size_bodies() -> None:
    assert size_body(20852163) == b"20852163\n"
    assert parse_size_body(b"20852163\n") == 20852163
    assert parse_size_body(b"0\n") == 0
    for bad in (b"", b"12", b"012\n", b"-1\n", b"1 \n", b"x\n", b"\xff\n"):
        assert parse_size_body(bad) is None
