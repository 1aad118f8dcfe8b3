"""Growing delays: free attempts, then 2^(n - free) seconds, capped; stale address counters forgotten."""

from __future__ import annotations

import datetime as dt

from shadan.services.throttling import DelayRule, ThrottleKeys

T0 = dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC)


def test_no_delay_before_the_free_attempts_are_used() -> None:
    rule = DelayRule(free_failures=5, max_delay_seconds=900)
    assert rule.retry_at(4, T0) is None


def test_delay_doubles_and_is_capped() -> None:
    rule = DelayRule(free_failures=5, max_delay_seconds=900)
    waits = [(rule.retry_at(n, T0) or T0) - T0 for n in (5, 6, 7, 14, 15, 99)]
    assert [w.total_seconds() for w in waits] == [1, 2, 4, 512, 900, 900]


def test_an_address_counter_is_forgotten_after_its_window() -> None:
    rule = DelayRule(30, 300, dt.timedelta(minutes=60))
    assert not rule.is_stale(T0, T0 + dt.timedelta(minutes=59))
    assert rule.is_stale(T0, T0 + dt.timedelta(minutes=61))


def test_the_typed_account_id_is_hashed_in_the_key() -> None:
    keys = ThrottleKeys.of("my secret passphrase typed in the id box", "192.0.2.1")
    assert "secret" not in keys.account
    assert keys.address == "ip:192.0.2.1"
