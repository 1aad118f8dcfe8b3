"""Who acted and from where, as the access event of a person's action records it (DESIGN §4.3)."""

from __future__ import annotations

from typing import Protocol, TypedDict

from shadan.domain.access import Principal, RequestContext


class Origin(TypedDict):
    """The fields of an AccessEvent (and of the actors below) that name who acted and from where."""

    account_id: str
    person_id: str
    company_id: str
    terminal_id: str
    source_ip: str


class Acting(Protocol):
    """Someone who carries their origin: an Actor, a SwitchingActor, a Viewer."""

    @property
    def account_id(self) -> str: ...

    @property
    def person_id(self) -> str: ...

    @property
    def company_id(self) -> str: ...

    @property
    def terminal_id(self) -> str: ...

    @property
    def source_ip(self) -> str: ...


def origin_of(who: Acting) -> Origin:
    return Origin(
        account_id=who.account_id,
        person_id=who.person_id,
        company_id=who.company_id,
        terminal_id=who.terminal_id,
        source_ip=who.source_ip,
    )


def request_origin(principal: Principal, context: RequestContext) -> Origin:
    """A request's principal, at the terminal and address the request came from."""
    return Origin(
        account_id=principal.account_id,
        person_id=principal.person_id,
        company_id=principal.company_id,
        terminal_id=context.terminal_id,
        source_ip=context.source_ip,
    )
