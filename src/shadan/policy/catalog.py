"""Load the roles and purposes (利用目的) of roles.toml into a domain RoleCatalog.

Roles are configuration, not code (DESIGN §4.2). The loader is strict: an unknown key, company kind or
category is an error rather than something silently ignored, because a typo in this file would change who
reads what.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from shadan.domain.roles import Purpose, RoleCatalog, RoleDefinition
from shadan.domain.vocabulary import AdminArea, CompanyKind, InfoCategory, PolicySwitch

DEFAULT_ROLES_FILE = "roles.toml"
_ROLE_KEYS = frozenset({"label", "company_kinds", "categories", "purposes", "administers"})
_PURPOSE_KEYS = frozenset({"categories", "requires"})
_E = TypeVar("_E", CompanyKind, InfoCategory, AdminArea, PolicySwitch)


class CatalogError(ValueError):
    """roles.toml is malformed or inconsistent; the message names the file, section and field."""


def load_catalog(path: Path | str | None = None) -> RoleCatalog:
    """The catalog from `path`, or from the packaged default roles.toml when `path` is None."""
    if path is None:
        return load_default_catalog()
    return parse_catalog(Path(path).read_text(encoding="utf-8"), source=str(path))


def load_default_catalog() -> RoleCatalog:
    text = resources.files("shadan.policy").joinpath(DEFAULT_ROLES_FILE).read_text(encoding="utf-8")
    return parse_catalog(text, source=DEFAULT_ROLES_FILE)


def parse_catalog(text: str, source: str = DEFAULT_ROLES_FILE) -> RoleCatalog:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from exc
    _require_keys(data, frozenset({"roles", "purposes"}), source)
    purposes = {name: _purpose(name, body, source) for name, body in _table(data, "purposes", source).items()}
    roles = {
        name: _role(name, body, purposes, source) for name, body in _table(data, "roles", source).items()
    }
    return RoleCatalog(roles=roles, purposes=purposes)


def _purpose(name: str, body: object, source: str) -> Purpose:
    where = f"{source}: [purposes.{name}]"
    table = _as_table(body, where)
    _require_keys(table, _PURPOSE_KEYS, where)
    requires = frozenset(_enum_list(table, "requires", PolicySwitch, where, required=False))
    return Purpose(name=name, categories=_categories(table, where), requires=requires)


def _role(name: str, body: object, purposes: Mapping[str, Purpose], source: str) -> RoleDefinition:
    where = f"{source}: [roles.{name}]"
    table = _as_table(body, where)
    _require_keys(table, _ROLE_KEYS, where)
    role = RoleDefinition(
        name=name,
        label=_string(table, "label", where),
        company_kinds=frozenset(_enum_list(table, "company_kinds", CompanyKind, where)),
        categories=_categories(table, where),
        purposes=frozenset(_strings(table, "purposes", where)),
        administers=frozenset(_enum_list(table, "administers", AdminArea, where, required=False)),
    )
    _check_purposes(role, purposes, where)
    return role


def _check_purposes(role: RoleDefinition, purposes: Mapping[str, Purpose], where: str) -> None:
    """Each purpose of a role may need only categories that role grants.

    Policies see the union of an account's roles (Cedar cannot pair a purpose with the role it came
    from). This rule makes the union exact: a purpose borrowed from one role can never open a category
    that only another role grants (docs/policy.md, "Several roles on one account").
    """
    if not role.company_kinds:
        raise CatalogError(f"{where}: company_kinds must name at least one company kind")
    for purpose_name in sorted(role.purposes):
        purpose = purposes.get(purpose_name)
        if purpose is None:
            raise CatalogError(f"{where}: purpose {purpose_name!r} is not defined under [purposes]")
        extra = purpose.categories - role.categories
        if extra:
            names = ", ".join(sorted(extra))
            raise CatalogError(
                f"{where}: purpose {purpose_name!r} needs categories the role does not grant: {names}"
            )


def _categories(table: Mapping[str, Any], where: str) -> frozenset[InfoCategory]:
    return frozenset(_enum_list(table, "categories", InfoCategory, where))


def _enum_list(
    table: Mapping[str, Any], key: str, enum: type[_E], where: str, required: bool = True
) -> list[_E]:
    values = _strings(table, key, where, required)
    try:
        return [enum(value) for value in values]
    except ValueError as exc:
        allowed = ", ".join(member.value for member in enum)
        raise CatalogError(f"{where}: {key}: {exc} (allowed: {allowed})") from exc


def _strings(table: Mapping[str, Any], key: str, where: str, required: bool = True) -> list[str]:
    if key not in table:
        if required:
            raise CatalogError(f"{where}: {key} is missing")
        return []
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where}: {key} must be a list of strings")
    if len(set(value)) != len(value):
        raise CatalogError(f"{where}: {key} lists a value twice")
    return value


def _string(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: {key} must be a non-empty string")
    return value


def _table(data: Mapping[str, Any], key: str, source: str) -> dict[str, Any]:
    return _as_table(data.get(key), f"{source}: [{key}]")


def _as_table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CatalogError(f"{where} must be a table")
    return value


def _require_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise CatalogError(
            f"{where}: unknown keys {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})"
        )
