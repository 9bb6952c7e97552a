"""Find connector classes by kind through the `onevoice.connectors` entry-point group.

Built-in connectors register there too, so a third-party package adds a channel kind just by being
installed. Classes load lazily: importing the registry imports no platform SDK.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import httpx
from pydantic import ValidationError

from onevoice.connectors.base import BaseConnector, Connector, Now, SettingsError

GROUP = "onevoice.connectors"


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def kinds() -> list[str]:
    """The registered kinds, without importing any connector."""
    return sorted(_entry_points())


def available() -> dict[str, type]:
    """Every registered connector class by kind (imports each connector module)."""
    return {kind: get(kind) for kind in kinds()}


@cache
def get(kind: str) -> type:
    eps = _entry_points()
    if kind not in eps:
        known = ", ".join(sorted(eps)) or "none installed"
        raise SettingsError(f"unknown channel kind {kind!r}; known kinds: {known}")
    cls = eps[kind].load()
    if getattr(cls, "kind", None) != kind:
        raise SettingsError(f"entry point {kind!r} loads {cls!r}, whose kind is {getattr(cls, 'kind', None)!r}")
    return cls


def describe_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "config"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def validate(kind: str, config: dict[str, Any]) -> Any:
    """The settings-model instance for `config`, or a SettingsError naming each bad key."""
    cls = get(kind)
    try:
        return cls.settings_model.model_validate(config)
    except ValidationError as exc:
        raise SettingsError(f"invalid {kind} settings: {describe_errors(exc)}") from exc


def build(kind: str, config: dict[str, Any], http: httpx.Client | None = None, now: Now | None = None) -> Connector:
    """A ready connector for a channel of `kind` configured with `config` (secrets included)."""
    cls = get(kind)
    settings = validate(kind, config)
    kwargs: dict[str, Any] = {"http": http}
    if now is not None:
        kwargs["now"] = now
    return cls(settings, **kwargs)


def settings_fields(kind: str) -> list[dict[str, Any]]:
    """The config keys a kind takes, for `channel add --help` and the channel form."""
    model = get(kind).settings_model
    out = []
    for name, f in model.model_fields.items():
        annotation = str(f.annotation)
        out.append(
            {
                "name": name,
                "required": f.is_required(),
                "secret": "SecretStr" in annotation,
                "default": None if f.is_required() or "SecretStr" in annotation else f.default,
                "description": f.description or "",
            }
        )
    return out


__all__ = ["BaseConnector", "SettingsError", "available", "build", "get", "kinds", "settings_fields", "validate"]
