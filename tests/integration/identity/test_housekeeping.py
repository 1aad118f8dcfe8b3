"""Housekeeping on the real database: ended sessions go after the keep period, live ones and recent ones
stay; stale address counters go, account counters (and so lockouts) never; every sweep that deletes is
logged with its counts."""

from __future__ import annotations

import datetime as dt

import pytest
from identity_support import ADMIN, PASSWORD, Identity, build_identity, seed
from sqlalchemy import Engine, select

from shadan.domain.errors import AuthenticationFailed
from shadan.domain.vocabulary import AuditTag
from shadan.services.housekeeping import HOUSEKEEPER, Housekeeping, Swept
from shadan.services.identity import EventFactory, IdentityPolicy
from shadan.store.tables import login_throttle, sessions

DAY = dt.timedelta(days=1)


@pytest.fixture
def housekeeping(identity: Identity) -> Housekeeping:
    return Housekeeping(identity.uow, identity.policy, EventFactory("shadan"), identity.clock)


def _session_ids(identity: Identity) -> set[str]:
    with identity.engine.connect() as connection:
        return {row.account_id + "@" + row.token_hash[:8] for row in connection.execute(select(sessions))}


def _throttle_keys(identity: Identity) -> set[str]:
    with identity.engine.connect() as connection:
        keys = connection.execute(select(login_throttle.c.throttle_key)).scalars()
        return {key.split(":")[0] for key in keys}


def test_ended_sessions_go_after_the_keep_period_and_live_ones_stay(
    identity: Identity, totp_secrets: dict[str, str], housekeeping: Housekeeping
) -> None:
    keep = dt.timedelta(days=identity.policy.session_keep_days)
    logged_out = identity.login("k.tanaka")
    identity.auth.logout(logged_out, "192.0.2.10")
    identity.login("m.sato")  # will time out (idle), never revoked
    identity.clock.advance(days=keep.days - 1)
    recent = identity.login("s.watanabe")
    identity.auth.logout(recent, "192.0.2.10")  # ended, but only just
    identity.login("k.tanaka")  # started a day before the sweep below: ends, if at all, within the keep
    before = _session_ids(identity)

    assert housekeeping.sweep(HOUSEKEEPER) == Swept(sessions=0, address_counters=0)
    identity.clock.advance(days=2)  # the first two ended more than the keep period ago
    assert housekeeping.sweep(HOUSEKEEPER).sessions == 2

    left = _session_ids(identity)
    assert len(before - left) == 2
    assert {entry.split("@")[0] for entry in left} == {"s.watanabe", "k.tanaka"}
    swept = identity.events(detail=str(AuditTag.HOUSEKEEPING_SWEPT))
    assert [(e.account_id, e.extra) for e in swept] == [
        ("system:housekeeper", {"sessions": 2, "address_counters": 0})
    ]


def test_a_session_past_its_absolute_lifetime_goes_even_if_it_was_used(
    identity: Identity, totp_secrets: dict[str, str], housekeeping: Housekeeping
) -> None:
    identity.login("k.tanaka")
    identity.clock.advance(days=identity.policy.session_keep_days + 1)
    assert housekeeping.sweep(ADMIN).sessions == 1
    assert identity.events(detail=str(AuditTag.HOUSEKEEPING_SWEPT))[0].account_id == ADMIN.account_id


def test_stale_address_counters_go_but_account_counters_and_lockouts_stay(engine: Engine) -> None:
    identity = build_identity(engine, IdentityPolicy(system_name="shadan-test", lockout_threshold=8))
    seed(identity)
    housekeeping = Housekeeping(identity.uow, identity.policy, EventFactory("shadan"), identity.clock)
    for _ in range(8):
        identity.clock.advance(minutes=16)  # past every delay
        with pytest.raises(AuthenticationFailed):
            identity.auth.login("m.sato", "Wrong-Passphrase-Entirely-1", "198.51.100.7")
    assert _throttle_keys(identity) == {"account", "ip"}

    identity.clock.advance(minutes=identity.policy.ip_window_minutes + 1)
    assert housekeeping.sweep(HOUSEKEEPER) == Swept(sessions=0, address_counters=1)
    assert _throttle_keys(identity) == {"account"}
    with pytest.raises(AuthenticationFailed):  # still locked out
        identity.auth.login("m.sato", PASSWORD, "198.51.100.7")


def test_a_sweep_that_deletes_nothing_logs_nothing(identity: Identity, housekeeping: Housekeeping) -> None:
    assert housekeeping.sweep(HOUSEKEEPER) == Swept(sessions=0, address_counters=0)
    assert identity.events(detail=str(AuditTag.HOUSEKEEPING_SWEPT)) == []
