"""Password hashing (Argon2id via argon2-cffi) and TOTP (RFC 6238 via pyotp). No hand-written crypto.

Passwords are NFKC-normalised before hashing (NIST SP 800-63B), so what a Japanese IME types full-width
verifies against the half-width form.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cached_property

import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from shadan.domain.passwords import normalise

TOTP_DIGITS = 6
TOTP_PERIOD_SECONDS = 30
# RFC 6238 §5.2: accept one step of clock drift either way.
TOTP_VALID_WINDOW = 1


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """RFC 9106's second recommended option (argon2-cffi's default): 64 MiB, 3 passes, 4 lanes."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


# Deliberately weak parameters for tests only: hashing dominates the suite's run time otherwise.
TEST_ARGON2 = Argon2Params(time_cost=1, memory_cost_kib=1024, parallelism=1)


class Argon2Hasher:
    def __init__(self, params: Argon2Params = Argon2Params()) -> None:
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost_kib,
            parallelism=params.parallelism,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(normalise(password))

    def verify(self, stored_hash: str, password: str) -> bool:
        """True when `password` matches. An empty or foreign hash verifies against a dummy (same cost)."""
        if not stored_hash:
            self.verify_dummy(password)
            return False
        try:
            return self._hasher.verify(stored_hash, normalise(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> None:
        """Spend a real verification's time, so an unknown account id answers as slowly as a known one."""
        try:
            self._hasher.verify(self._dummy_hash, normalise(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(24))


def new_totp_secret() -> str:
    """160 random bits in base32 (RFC 4226 §4 recommends at least 160)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account_id: str, issuer: str) -> str:
    uri: str = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_SECONDS).provisioning_uri(
        name=account_id, issuer_name=issuer
    )
    return uri


def normalise_code(code: str) -> str:
    """Full-width digits from an IME become ASCII; spaces people put in the middle go."""
    return "".join(unicodedata.normalize("NFKC", code).split())


def matching_totp_step(secret: str, code: str, now: dt.datetime) -> int | None:
    """The time step whose code equals `code` within the drift window, or None.

    The caller stores the step and refuses it (and any earlier one) afterwards: a code is good once.
    """
    cleaned = normalise_code(code)
    if len(cleaned) != TOTP_DIGITS or not cleaned.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_SECONDS)
    current = int(totp.timecode(now))
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(str(totp.generate_otp(step)), cleaned):
            return step
    return None


def totp_code_at(secret: str, now: dt.datetime) -> str:
    """The code an authenticator app shows at `now` (for tests and the demo)."""
    code: str = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD_SECONDS).at(now)
    return code
