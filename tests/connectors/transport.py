"""One mocking interface over the two HTTP stacks the SDKs use: httpx (respx) and requests (responses).

Only the transport is replaced; the connector, the SDK and its error handling all run for real.
"""

from __future__ import annotations

import json as jsonlib
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import responses
import respx


@dataclass
class Call:
    method: str
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return jsonlib.loads(self.body)


class Transport:
    """`with Transport("httpx") as t: t.add("GET", r"https://x/.*", json={...})`."""

    def __init__(self, stack: str):
        self.stack = stack
        self._respx: respx.MockRouter | None = None
        self._responses: responses.RequestsMock | None = None
        self._final: list[Call] | None = None

    def __enter__(self) -> Transport:
        if self.stack == "httpx":
            self._respx = respx.mock(assert_all_called=False)
            self._respx.__enter__()
        else:
            self._responses = responses.RequestsMock(assert_all_requests_are_fired=False)
            self._responses.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._final = self.calls  # responses forgets its calls on exit; tests read them after the block
        if self._respx is not None:
            self._respx.__exit__(*exc)
        if self._responses is not None:
            self._responses.__exit__(*exc)

    def add(
        self,
        method: str,
        url: str,
        status: int = 200,
        json: Any = None,
        headers: dict[str, str] | None = None,
        body: bytes | str | None = None,
    ) -> None:
        """Answer requests whose URL matches the regex `url` (first registered wins for httpx)."""
        if json is not None:
            content = jsonlib.dumps(json).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        else:
            content = body.encode() if isinstance(body, str) else (body or b"")
        if self._respx is not None:
            self._respx.route(method=method, url__regex=url).mock(
                return_value=httpx.Response(status, content=content, headers=headers or {})
            )
        else:
            assert self._responses is not None
            self._responses.add(method, re.compile(url), body=content, status=status, headers=headers or {})

    def reset(self) -> None:
        if self._respx is not None:
            self._respx.clear()
            self._respx.calls.reset()
        if self._responses is not None:
            self._responses.reset()

    @property
    def calls(self) -> list[Call]:
        if self._final is not None:
            return self._final
        if self._respx is not None:
            return [
                Call(c.request.method, str(c.request.url), c.request.content, dict(c.request.headers))
                for c in self._respx.calls
            ]
        assert self._responses is not None
        out = []
        for c in self._responses.calls:
            body = c.request.body or b""
            out.append(
                Call(
                    c.request.method,
                    c.request.url,
                    body.encode() if isinstance(body, str) else body,
                    dict(c.request.headers),
                )
            )
        return out
