"""Roles and purposes (利用目的) as data: loaded from configuration, never written into code."""

from __future__ import annotations

from dataclasses import dataclass

from shadan.domain.vocabulary import AdminArea, CompanyKind, InfoCategory, PolicySwitch


@dataclass(frozen=True, slots=True)
class Purpose:
    name: str
    categories: frozenset[InfoCategory]
    # Settings that must be on for any policy to allow this purpose (`requires` in roles.toml).
    requires: frozenset[PolicySwitch] = frozenset()


@dataclass(frozen=True, slots=True)
class RoleDefinition:
    name: str
    label: str
    company_kinds: frozenset[CompanyKind]
    categories: frozenset[InfoCategory]
    purposes: frozenset[str]
    administers: frozenset[AdminArea] = frozenset()

    @property
    def sees_non_public(self) -> bool:
        return bool(self.categories)


@dataclass(frozen=True, slots=True)
class RoleCatalog:
    roles: dict[str, RoleDefinition]
    purposes: dict[str, Purpose]

    def role(self, name: str) -> RoleDefinition:
        return self.roles[name]

    def purposes_of(self, role_names: frozenset[str]) -> frozenset[str]:
        return frozenset(p for r in role_names if r in self.roles for p in self.roles[r].purposes)

    def offered_purposes(
        self, role_names: frozenset[str], switches_on: frozenset[PolicySwitch]
    ) -> frozenset[str]:
        """The purposes to offer these roles: those whose required settings are on (another could only
        ever be refused)."""
        return frozenset(p for p in self.purposes_of(role_names) if self.purposes[p].requires <= switches_on)

    def categories_of(self, role_names: frozenset[str]) -> frozenset[InfoCategory]:
        return frozenset(c for r in role_names if r in self.roles for c in self.roles[r].categories)

    def administers(self, role_names: frozenset[str], area: AdminArea) -> bool:
        """Whether any of the roles manages `area` (the gate of the administrative pages)."""
        return any(area in self.roles[r].administers for r in role_names if r in self.roles)

    def needs_mfa(self, role_names: frozenset[str]) -> bool:
        """Reading records needs a second factor; so does reading the access log, which names customers'
        supply points and the terms people searched for."""
        return bool(self.categories_of(role_names)) or self.administers(role_names, AdminArea.ACCESS_LOG)
