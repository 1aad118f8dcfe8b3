"""Calls to several parties at once, waited for together no longer than the patience: a party that does
not answer is given up on, is busy until its call ends, and its late answer reaches nobody. The blocked
parties wait on events the test releases, so no outcome depends on how fast the machine is."""

from __future__ import annotations

import threading

import pytest

from shadan.services.patient_calls import GaveUp, PatientCalls


def blocked_until(released: threading.Event, answer: str) -> str:
    released.wait(30)
    return answer


def test_each_party_gets_its_answer_or_its_exception() -> None:
    def refuse() -> str:
        raise ValueError("refused")

    answers = PatientCalls[str](5).call([("egc", lambda: "cosigned"), ("audit", refuse)])
    assert answers["egc"] == "cosigned"
    assert isinstance(answers["audit"], ValueError)


def test_a_party_that_does_not_answer_is_given_up_and_busy_until_its_call_ends() -> None:
    calls = PatientCalls[str](0.05)
    released = threading.Event()
    answers = calls.call([("stuck", lambda: blocked_until(released, "late")), ("egc", lambda: "cosigned")])
    assert answers["egc"] == "cosigned"
    assert isinstance(answers["stuck"], GaveUp)
    assert calls.busy("stuck")
    assert not calls.busy("egc")
    released.set()
    for thread in threading.enumerate():
        if thread.name == "shadan-call-stuck":
            thread.join(30)
    assert not calls.busy("stuck")
    assert calls.call([("stuck", lambda: "now")]) == {"stuck": "now"}  # the late "late" went nowhere


def test_the_patience_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        PatientCalls[str](0)
