"""The header's menu: which pages a principal's roles open, decided by the same rules the services apply.

Only links: every page and download still asks its service, which decides and logs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shadan.domain.access import Principal
from shadan.domain.roles import RoleCatalog
from shadan.services.audit_review import AuditAccess
from shadan.services.switching_desk import processes_switching
from shadan.services.switching_oversight import View, may_view


@dataclass(frozen=True, slots=True)
class MenuItem:
    key: str  # the `active` value of the item's pages
    label: str
    href: str
    shown_to: Callable[[RoleCatalog, Principal], bool]


def _everyone(_catalog: RoleCatalog, _principal: Principal) -> bool:
    return True


def _statistics(catalog: RoleCatalog, principal: Principal) -> bool:
    return may_view(catalog, principal, View.STATISTICS)


def _fraud_signals(catalog: RoleCatalog, principal: Principal) -> bool:
    return may_view(catalog, principal, View.FRAUD_SIGNALS)


def _access_log(catalog: RoleCatalog, principal: Principal) -> bool:
    return AuditAccess.of(catalog, principal) is not AuditAccess.NONE


MENU = (
    MenuItem("home", "供給地点照会", "/", _everyone),
    MenuItem("history", "自分のアクセス履歴", "/me/history", _everyone),
    MenuItem("switching", "廃止取次", "/switching", processes_switching),
    MenuItem("switching_stats", "スイッチング統計", "/switching/statistics", _statistics),
    MenuItem("switching_fraud", "不正の兆候", "/switching/fraud-signals", _fraud_signals),
    MenuItem("audit", "アクセスログ監査", "/audit", _access_log),
)


def menu_for(catalog: RoleCatalog, principal: Principal) -> tuple[MenuItem, ...]:
    return tuple(item for item in MENU if item.shown_to(catalog, principal))
