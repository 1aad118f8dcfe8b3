"""What the entry points (API, pages, serve) need from the composition root.

`bootstrap.Shadan` satisfies these protocols structurally; typing against them keeps the entry layer
independent of how the container is assembled, and lets tests hand in a smaller one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from shadan.config import Settings
from shadan.domain.access import Principal
from shadan.domain.roles import RoleCatalog
from shadan.services.audit_review import AuditReviewService
from shadan.services.switching_desk import SwitchingDesk
from shadan.services.switching_fraud import FraudSignalService
from shadan.services.switching_stats import SwitchingStatisticsService
from shadan.services.vault import VaultService


class LoginOutcome(Protocol):
    @property
    def session_token(self) -> str: ...

    @property
    def mfa_required(self) -> bool: ...


class Authenticator(Protocol):
    """The identity service's session API (services.identity.AuthService)."""

    def login(
        self, account_id: str, password: str, source_ip: str, terminal_id: str = ""
    ) -> LoginOutcome: ...

    def verify_mfa(self, session_token: str, code: str, source_ip: str) -> None: ...

    def authenticate(self, session_token: str, source_ip: str = "") -> Principal: ...

    def logout(self, session_token: str, source_ip: str = "") -> None: ...

    def csrf_token(self, session_token: str) -> str: ...

    def check_csrf(self, session_token: str, token: str) -> bool: ...


class Container(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def catalog(self) -> RoleCatalog: ...

    @property
    def vault(self) -> VaultService: ...

    @property
    def auth(self) -> Authenticator: ...

    @property
    def clock(self) -> Callable[[], dt.datetime]: ...

    @property
    def switching_desk(self) -> SwitchingDesk: ...

    @property
    def switching_stats(self) -> SwitchingStatisticsService: ...

    @property
    def switching_fraud(self) -> FraudSignalService: ...

    @property
    def audit_review(self) -> AuditReviewService: ...
