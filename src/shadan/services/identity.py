"""Identity (DESIGN §4.1): what the identity services share — their settings, the acting administrator,
the clock and the access events they write.

The use cases live in small modules beside this one: `authentication` (AuthService: login, TOTP, sessions,
CSRF), `accounts` (AccountService), `transfers` (TransferService, 人事異動) and `hr_master`
(HrMasterService, `shadan load`). Services get plain values, never `shadan.config`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shadan.domain.access import Principal
from shadan.domain.errors import InvalidInput
from shadan.domain.events import AccessEvent
from shadan.domain.roles import RoleCatalog
from shadan.domain.vocabulary import Action, AuditTag, CompanyKind, Outcome, ResourceType
from shadan.services.event_origin import origin_of

# Identity work touches no registry row; the system realm is the one meant for such work.
IDENTITY_REALM = "system"
# The `system` field of access events unless the settings name another (SHADAN_SYSTEM_NAME).
SYSTEM_NAME = "shadan"


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    """The identity settings as plain values (bootstrap copies them from `Settings`)."""

    system_name: str = SYSTEM_NAME
    password_min_length: int = 15
    password_max_length: int = 256
    password_max_age_days: int | None = None
    lockout_threshold: int = 100
    # None: a locked account stays locked until an administrator unlocks it.
    lockout_minutes: int | None = None
    session_idle_minutes: int = 30
    session_absolute_hours: int = 10
    # Ended sessions are kept this long for investigations, then housekeeping deletes them.
    session_keep_days: int = 90
    # A session that passed the password has this long to pass TOTP.
    mfa_pending_minutes: int = 5
    # last_seen is written at most this often, so reads stay read-only on the hot path.
    touch_interval_seconds: int = 60
    account_free_failures: int = 5
    account_max_delay_seconds: int = 900
    # Many staff share an office's address (NAT): the per-address limit starts later and forgets.
    ip_free_failures: int = 30
    ip_max_delay_seconds: int = 300
    ip_window_minutes: int = 60
    dev_mfa_bypass: bool = False
    context_words: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not 1 <= self.lockout_threshold <= 100:
            raise ValueError("lockout_threshold must be between 1 and 100 (NIST SP 800-63B)")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs an administrative change: a logged-in administrator, or an operator at the CLI."""

    account_id: str
    person_id: str = ""
    company_id: str = ""
    source_ip: str = ""
    terminal_id: str = ""

    @classmethod
    def of(cls, principal: Principal, source_ip: str = "", terminal_id: str = "") -> Actor:
        return cls(principal.account_id, principal.person_id, principal.company_id, source_ip, terminal_id)

    @classmethod
    def operator(cls, name: str, terminal_id: str = "") -> Actor:
        """A command-line operator (the OS user), recorded as `cli:<name>`."""
        return cls(account_id=f"cli:{name}", terminal_id=terminal_id)


@dataclass(frozen=True, slots=True)
class EventFactory:
    """Builds the access events of the identity services with the system name and fresh ids."""

    system: str
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex

    def admin(
        self,
        now: dt.datetime,
        actor: Actor,
        tag: AuditTag,
        resource_type: ResourceType | str,
        resource_ids: tuple[str, ...],
        outcome: Outcome = Outcome.ALLOWED,
        extra: dict[str, Any] | None = None,
    ) -> AccessEvent:
        return AccessEvent(
            event_id=self.new_id(),
            ts=now,
            system=self.system,
            **origin_of(actor),
            action=Action.ADMIN,
            resource_type=resource_type,
            resource_ids=resource_ids,
            outcome=outcome,
            detail=str(tag),
            extra=dict(extra or {}),
        )

    def session(
        self,
        now: dt.datetime,
        action: Action,
        tag: AuditTag,
        who: Actor,
        session_ref: str,
        outcome: Outcome,
        extra: dict[str, Any] | None = None,
    ) -> AccessEvent:
        """Login, TOTP and logout events. `session_ref` is a prefix of the token hash, never the token."""
        return AccessEvent(
            event_id=self.new_id(),
            ts=now,
            system=self.system,
            **origin_of(who),
            action=action,
            resource_type=ResourceType.SESSION,
            resource_ids=(session_ref,) if session_ref else (),
            outcome=outcome,
            detail=str(tag),
            extra=dict(extra or {}),
        )


def role_fits(catalog: RoleCatalog, role: str, kind: CompanyKind) -> bool:
    """A role counts only if the catalog knows it and allows it for the employer's kind of company."""
    definition = catalog.roles.get(role)
    return definition is not None and (not definition.company_kinds or kind in definition.company_kinds)


def effective_roles(catalog: RoleCatalog, roles: frozenset[str], kind: CompanyKind) -> frozenset[str]:
    """The roles a principal holds today: a role that does not fit the current employer is dropped, so a
    transfer recorded without a role change can only lose rights, never keep them."""
    return frozenset(r for r in roles if role_fits(catalog, r, kind))


def check_roles(catalog: RoleCatalog, roles: frozenset[str], kind: CompanyKind) -> None:
    unknown = sorted(r for r in roles if r not in catalog.roles)
    if unknown:
        raise InvalidInput(f"未定義のロールです: {', '.join(unknown)}")
    misfit = sorted(r for r in roles if not role_fits(catalog, r, kind))
    if misfit:
        raise InvalidInput(f"所属会社の種別（{kind}）では付与できないロールです: {', '.join(misfit)}")
