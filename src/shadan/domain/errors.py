"""Domain errors: each carries a message fit to show a user (Japanese) and a stable code."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    code = "invalid_input"


class SharedIdRefused(InvalidInput):
    code = "shared_id_refused"


class WeakPassword(InvalidInput):
    code = "weak_password"


class SearchTooBroad(InvalidInput):
    """A search that would read too much of the log: the user narrows it."""

    code = "search_too_broad"


class NotFound(DomainError):
    code = "not_found"


class AuthenticationFailed(DomainError):
    """Deliberately vague: the same for an unknown user, a wrong password and a locked account."""

    code = "authentication_failed"


class AccessDenied(DomainError):
    code = "access_denied"


class AuditUnavailable(DomainError):
    """The access log could not be written: the request must fail closed."""

    code = "audit_unavailable"
