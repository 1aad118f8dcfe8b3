"""The demo's short scenario, played through the real services: login → TOTP → authenticate → vault.

1. A wheeling clerk (託送業務担当) looks up a new retailer's customer for 託送業務: every category shown.
2. A network engineer looks up the same point for 設備保全: contract and names withheld.
3. An employee of the affiliated retailer tries the same point, once with the retail role's own purpose
   (the policy denies it) and once claiming 託送業務 (a purpose the role does not have): both refused and
   both logged.
4. Another clerk is transferred (人事異動) to the affiliated retailer by the information manager while
   signed in: the transfer ends the clerk's live session, so the very next request fails.
Then the access events about the point and the transferred person are read back from the log.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shadan.domain.access import Principal, RequestContext
from shadan.domain.errors import DomainError
from shadan.domain.events import AccessEvent
from shadan.domain.japan_time import local_day
from shadan.domain.registry import SupplyPoint, SupplyPointKind, SupplyPointStatus, Voltage
from shadan.domain.vocabulary import InfoCategory
from shadan.services.authentication import LoginResult
from shadan.services.credentials import totp_code_at
from shadan.services.demo_logins import DemoLogin
from shadan.services.identity import Actor
from shadan.services.ports import UnitOfWorkFactory
from shadan.services.synthetic.generator import SyntheticOperator
from shadan.services.synthetic.market import AFFILIATED_CODE
from shadan.services.synthetic.staff import AFFILIATED_COMPANY
from shadan.services.transfers import TransferResult
from shadan.services.vault import FieldValue, RecordView

DEMO_IP = "127.0.0.1"
DEMO_TERMINAL = "demo-terminal-01"
TOTP_PERIOD = 30
TRANSFER_DEPARTMENT = "営業本部 法人営業部"
TRANSFER_ROLES = frozenset({"retail_staff"})
EVENT_LIMIT = 200


class Auth(Protocol):
    def login(self, account_id: str, password: str, source_ip: str, terminal_id: str = "") -> LoginResult: ...

    def verify_mfa(self, session_token: str, code: str, source_ip: str) -> None: ...

    def authenticate(self, session_token: str, source_ip: str = "") -> Principal: ...


class Vault(Protocol):
    def read(self, principal: Principal, raw_id: str, context: RequestContext) -> RecordView: ...


class Transfers(Protocol):
    def transfer(
        self,
        person_id: str,
        company_id: str,
        department: str,
        effective: dt.date,
        roles: frozenset[str],
        actor: Actor,
    ) -> TransferResult: ...


class ScenarioServices(Protocol):
    """What the scenario needs from the container (bootstrap's `Shadan` fits)."""

    @property
    def auth(self) -> Auth: ...

    @property
    def vault(self) -> Vault: ...

    @property
    def transfers(self) -> Transfers: ...

    @property
    def uow(self) -> UnitOfWorkFactory: ...

    @property
    def clock(self) -> Callable[[], dt.datetime]: ...


@dataclass(frozen=True, slots=True)
class Lookup:
    """One attempted read and what the firewall made of it."""

    who: str
    account_id: str
    company_name: str
    purpose: str
    supply_point_id: str
    allowed: bool
    shown: tuple[InfoCategory, ...]
    withheld: tuple[InfoCategory, ...]
    fields: tuple[FieldValue, ...]  # only the fields of the categories shown
    policy_ids: tuple[str, ...]
    message: str  # the refusal as the user saw it ("" when allowed)


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    who: str
    account_id: str
    name: str
    from_company: str
    to_company: str
    to_department: str
    sessions_revoked: int
    read_before: bool  # the clerk's session worked before the transfer
    refused_after: bool  # ... and not after it
    message_after: str


@dataclass(frozen=True, slots=True)
class ScenarioReport:
    target: SupplyPoint
    lookups: tuple[Lookup, ...]
    transfer: TransferOutcome
    events: tuple[AccessEvent, ...]

    @property
    def denied_lookups(self) -> tuple[Lookup, ...]:
        return tuple(x for x in self.lookups if not x.allowed)


def pick_target(operator: SyntheticOperator) -> SupplyPoint:
    """A low-voltage household of a new retailer: the record the affiliated retailer must never see."""
    for point in operator.supply_points:
        if (
            point.retailer_code != AFFILIATED_CODE
            and point.kind is SupplyPointKind.DEMAND
            and point.voltage is Voltage.LOW
            and point.status is SupplyPointStatus.ACTIVE
        ):
            return point
    return operator.supply_points[0]


class Scenario:
    def __init__(
        self,
        services: ScenarioServices,
        logins: Sequence[DemoLogin],
        sleep: Callable[[float], None] = time.sleep,
        used_steps: dict[str, int] | None = None,
    ) -> None:
        self._services = services
        self._logins = {login.key: login for login in logins}
        self._sleep = sleep
        # TOTP codes are good once: the last step used per account (from an earlier run, if any).
        self.used_steps = dict(used_steps or {})
        self._sessions: dict[str, str] = {}

    def run(self, operator: SyntheticOperator, since: dt.datetime) -> ScenarioReport:
        """Play the scenario; the report's events are those logged from `since` on."""
        target = pick_target(operator)
        lookups = [
            self._lookup("clerk", target.supply_point_id, "託送業務"),
            self._lookup("engineer", target.supply_point_id, "設備保全"),
            self._lookup("affiliated", target.supply_point_id, "自社契約確認"),
            self._lookup("affiliated", target.supply_point_id, "託送業務"),
        ]
        transfer = self._transfer(target.supply_point_id)
        transferee = self._logins["transferee"]
        about = (target.supply_point_id, transferee.person_id, transferee.account_id)
        events = self._events(about, transferee.account_id, since)
        return ScenarioReport(target, tuple(lookups), transfer, events)

    # Steps.
    def _lookup(self, key: str, supply_point_id: str, purpose: str) -> Lookup:
        login = self._logins[key]
        # One sign-in per person, as at a desk: later look-ups reuse the session.
        if key not in self._sessions:
            self._sessions[key] = self._sign_in(login)
        principal = self._services.auth.authenticate(self._sessions[key], DEMO_IP)
        return self._read(login, principal, supply_point_id, purpose)

    def _read(self, login: DemoLogin, principal: Principal, supply_point_id: str, purpose: str) -> Lookup:
        who = {"who": login.label, "account_id": login.account_id, "company_name": login.company_name}
        try:
            view = self._services.vault.read(principal, supply_point_id, self._context(purpose))
        except DomainError as exc:
            # A refusal shows the user only its message; what decided it is in the access log.
            nothing: tuple[()] = ()
            return Lookup(
                **who, purpose=purpose, supply_point_id=supply_point_id, allowed=False, shown=nothing,
                withheld=nothing, fields=nothing, policy_ids=nothing, message=exc.message,
            )  # fmt: skip
        return Lookup(
            **who, purpose=purpose, supply_point_id=supply_point_id, allowed=True,
            shown=tuple(sorted(view.shown)), withheld=tuple(sorted(view.withheld)), fields=view.fields,
            policy_ids=view.policy_ids, message="",
        )  # fmt: skip

    def _transfer(self, supply_point_id: str) -> TransferOutcome:
        login = self._logins["transferee"]
        auth = self._services.auth
        token = self._sign_in(login)
        before = self._read(login, auth.authenticate(token, DEMO_IP), supply_point_id, "託送業務")
        manager = self._logins["info_manager"]
        manager_principal = auth.authenticate(self._sign_in(manager), DEMO_IP)
        result = self._services.transfers.transfer(
            login.person_id,
            AFFILIATED_COMPANY.company_id,
            TRANSFER_DEPARTMENT,
            local_day(self._services.clock()),
            TRANSFER_ROLES,
            Actor.of(manager_principal, DEMO_IP, DEMO_TERMINAL),
        )
        refused, message = False, ""
        try:
            auth.authenticate(token, DEMO_IP)  # the clerk's next request, on the same session
        except DomainError as exc:
            refused, message = True, exc.message
        return TransferOutcome(
            who=login.label,
            account_id=login.account_id,
            name=login.name,
            from_company=login.company_name,
            to_company=AFFILIATED_COMPANY.name,
            to_department=TRANSFER_DEPARTMENT,
            sessions_revoked=result.sessions_revoked,
            read_before=before.allowed,
            refused_after=refused,
            message_after=message,
        )

    # Plumbing.
    def _sign_in(self, login: DemoLogin) -> str:
        auth = self._services.auth
        result = auth.login(login.account_id, login.password, DEMO_IP, DEMO_TERMINAL)
        if result.mfa_required:
            auth.verify_mfa(result.session_token, self._fresh_code(login), DEMO_IP)
        return result.session_token

    def _fresh_code(self, login: DemoLogin) -> str:
        """The authenticator's current code; wait for the next one if this one was already used."""
        now = self._services.clock()
        step = int(now.timestamp()) // TOTP_PERIOD
        last = self.used_steps.get(login.account_id)
        if last is not None and step <= last:
            self._sleep((last + 1) * TOTP_PERIOD - now.timestamp() + 0.5)
            now = self._services.clock()
            step = int(now.timestamp()) // TOTP_PERIOD
        self.used_steps[login.account_id] = step
        return totp_code_at(login.totp_secret, now)

    def _context(self, purpose: str) -> RequestContext:
        return RequestContext(
            now=self._services.clock(), purpose=purpose, terminal_id=DEMO_TERMINAL, source_ip=DEMO_IP
        )

    def _events(
        self, resource_ids: Sequence[str], account_id: str, since: dt.datetime
    ) -> tuple[AccessEvent, ...]:
        """This run's events about the point and the transferred person, read back as an auditor would."""
        found: dict[str, AccessEvent] = {}
        with self._services.uow("td") as uow:
            for resource_id in resource_ids:
                found.update(
                    (e.event_id, e) for e in uow.log_reader.events_for_resource(resource_id, EVENT_LIMIT)
                )
            found.update((e.event_id, e) for e in uow.log_reader.events_of_account(account_id, EVENT_LIMIT))
        return tuple(sorted((e for e in found.values() if e.ts >= since), key=lambda e: e.ts))
