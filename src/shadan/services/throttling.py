"""Login throttling and lockout, with all state in the database (ThrottleRepository).

Two counters per attempt: one for the account id as typed (whether it exists or not, so throttling says
nothing about which ids exist), one for the source address. After `free` failures every further attempt
is refused until the last failure + 2^(n - free) seconds, capped; the account counter also locks out at
the threshold (NIST SP 800-63B: at most 100 consecutive failures). A success resets the account counter.
The address counter is not reset by a success (an attacker would log in to their own account to reset
it) but forgets after a quiet window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from shadan.services.identity import IdentityPolicy
from shadan.services.ports import ThrottleRepository


@dataclass(frozen=True, slots=True)
class DelayRule:
    free_failures: int
    max_delay_seconds: int
    window: dt.timedelta | None = None  # counters older than this are forgotten (None: never)

    def retry_at(self, failures: int, last_failure: dt.datetime | None) -> dt.datetime | None:
        """When the next attempt may be made, or None when no delay applies."""
        if last_failure is None or failures < self.free_failures:
            return None
        exponent = min(failures - self.free_failures, 30)  # 2^30 s is far past any cap
        return last_failure + dt.timedelta(seconds=min(2**exponent, self.max_delay_seconds))

    def is_stale(self, last_failure: dt.datetime | None, now: dt.datetime) -> bool:
        return self.window is not None and last_failure is not None and now - last_failure > self.window


ADDRESS_KEY_PREFIX = "ip:"


@dataclass(frozen=True, slots=True)
class ThrottleKeys:
    account: str
    address: str

    @classmethod
    def of(cls, canonical_account_id: str, source_ip: str) -> ThrottleKeys:
        # The typed id is hashed: people type passwords into the id field, and the table must not keep them.
        digest = hashlib.sha256(canonical_account_id.encode("utf-8")).hexdigest()
        return cls(account=f"account:{digest}", address=f"{ADDRESS_KEY_PREFIX}{source_ip[:64]}")


@dataclass(frozen=True, slots=True)
class ThrottleVerdict:
    refused: bool
    locked_out: bool
    account_failures: int


class Throttle:
    def __init__(self, policy: IdentityPolicy) -> None:
        self._threshold = policy.lockout_threshold
        self._account = DelayRule(policy.account_free_failures, policy.account_max_delay_seconds)
        self._address_window = dt.timedelta(minutes=policy.ip_window_minutes)
        self._address = DelayRule(policy.ip_free_failures, policy.ip_max_delay_seconds, self._address_window)

    def check(self, repo: ThrottleRepository, keys: ThrottleKeys, now: dt.datetime) -> ThrottleVerdict:
        """Whether this attempt must be refused without even looking at the password."""
        account_failures, account_last = repo.failures(keys.account)
        if account_failures >= self._threshold:
            return ThrottleVerdict(refused=True, locked_out=True, account_failures=account_failures)
        address_failures, address_last = repo.failures(keys.address)
        if self._address.is_stale(address_last, now):
            address_failures = 0
        waits = (
            self._account.retry_at(account_failures, account_last),
            self._address.retry_at(address_failures, address_last),
        )
        refused = any(until is not None and now < until for until in waits)
        return ThrottleVerdict(refused=refused, locked_out=False, account_failures=account_failures)

    def record_failure(self, repo: ThrottleRepository, keys: ThrottleKeys, now: dt.datetime) -> int:
        """Count one failure on both keys; returns the account's consecutive failures."""
        _, address_last = repo.failures(keys.address)
        if self._address.is_stale(address_last, now):
            repo.reset(keys.address)
        repo.record_failure(keys.address, now)
        return repo.record_failure(keys.account, now)

    def forget_stale_addresses(self, repo: ThrottleRepository, now: dt.datetime) -> int:
        """Delete the address counters the throttle already treats as zero (housekeeping). Account
        counters stay: they count consecutive failures towards the lockout until a success or an unlock."""
        return repo.forget_before(ADDRESS_KEY_PREFIX, now - self._address_window)

    def reaches_lockout(self, account_failures: int) -> bool:
        return account_failures >= self._threshold

    @staticmethod
    def record_success(repo: ThrottleRepository, keys: ThrottleKeys) -> None:
        repo.reset(keys.account)
