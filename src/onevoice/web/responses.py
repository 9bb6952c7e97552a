"""JSON responses serialized with orjson (fast, and datetimes come out as ISO 8601)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class FastJSON(JSONResponse):
    """For a route that builds its response itself (a status that depends on the outcome, the webhooks).
    Routes with a response model leave the writing to FastAPI (pydantic writes the same bytes)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class Problem(BaseModel):
    """Every error the API answers: one readable sentence."""

    detail: str


# The error answers every token-authenticated route can give, for `responses=` (the OpenAPI document then
# lists them beside the success). A route with parameters or a body also lists 422, added by FastAPI as
# `HTTPValidationError`, whose schema app.py rewrites to the one string the handler sends.
AUTH_ERRORS: dict[int | str, dict] = {
    401: {"model": Problem, "description": "missing, unknown, expired or revoked token, or its user disabled"},
    403: {"model": Problem, "description": "the token lacks the scope, or its user the role"},
}
NOT_FOUND: dict[int | str, dict] = {404: {"model": Problem, "description": "no such record"}}
# A route that reads or changes one record: the auth errors and 404.
RECORD_ERRORS: dict[int | str, dict] = {**AUTH_ERRORS, **NOT_FOUND}
CONFLICT: dict[int | str, dict] = {409: {"model": Problem, "description": "the record's state does not allow it"}}
BAD_BODY: dict[int | str, dict] = {
    400: {"model": Problem, "description": "the body is empty or not JSON"},
    413: {"model": Problem, "description": "the body or the batch is too large"},
}
