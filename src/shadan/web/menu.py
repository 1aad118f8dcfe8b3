"""The header's menu: which pages a principal's roles open, decided by the same rules the services apply.

Only links: every page and download still asks its service, which decides and logs. The catalog is the
packaged one that bootstrap builds the services on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shadan.domain.access import Principal
from shadan.domain.roles import RoleCatalog
from shadan.policy.catalog import load_default_catalog
from shadan.services.audit_review import AuditAccess
from shadan.services.switching_desk import processes_switching
from shadan.services.switching_oversight import View, may_view
from shadan.web.session import PageSession
from shadan.web.templating import ENVIRONMENT


@dataclass(frozen=True, slots=True)
class MenuItem:
    key: str  # the `active` value of the item's pages
    label: str
    href: str
    shown_to: Callable[[RoleCatalog, Principal], bool]


def _everyone(_catalog: RoleCatalog, _principal: Principal) -> bool:
    return True


MENU = (
    MenuItem("home", "供給地点照会", "/", _everyone),
    MenuItem("history", "自分のアクセス履歴", "/me/history", _everyone),
    MenuItem("switching", "廃止取次", "/switching", processes_switching),
    MenuItem(
        "switching_stats",
        "スイッチング統計",
        "/switching/statistics",
        lambda c, p: may_view(c, p, View.STATISTICS),
    ),
    MenuItem(
        "switching_fraud",
        "不正の兆候",
        "/switching/fraud-signals",
        lambda c, p: may_view(c, p, View.FRAUD_SIGNALS),
    ),
    MenuItem(
        "audit", "アクセスログ監査", "/audit", lambda c, p: AuditAccess.of(c, p) is not AuditAccess.NONE
    ),
)

_CATALOG = load_default_catalog()


def menu(session: PageSession | None) -> list[MenuItem]:
    if session is None:
        return []
    return [item for item in MENU if item.shown_to(_CATALOG, session.principal)]


def audit_access(session: PageSession | None) -> str:
    return str(AuditAccess.of(_CATALOG, session.principal) if session else AuditAccess.NONE)


ENVIRONMENT.globals["menu"] = menu
ENVIRONMENT.globals["audit_access"] = audit_access
