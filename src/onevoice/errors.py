"""Domain errors. Services raise these; one handler maps them to HTTP codes and CLI messages."""


class DomainError(Exception):
    status_code = 400


class NotFound(DomainError):
    status_code = 404


class InvalidInput(DomainError):
    status_code = 422


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    status_code = 403
