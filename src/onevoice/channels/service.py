"""Channels: the organization's accounts on each platform."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel
from onevoice.channels.secrets import decrypt, encrypt, rotate
from onevoice.connectors import registry
from onevoice.errors import Conflict, InvalidInput, NotFound
from onevoice.settings import DEV_SECRET
from onevoice.teams.service import KEY, team_id


def add_channel(session: Session, key: str, kind: str, name: str | None = None, config: dict | None = None,
                owner_team: str | None = None, secret_key: str | None = None) -> Channel:
    """Create a channel. Its config is checked against the connector's settings; secrets are encrypted."""
    if not KEY.match(key or ""):
        raise InvalidInput(f"channel key {key!r} must be lowercase letters, digits, '-' or '_' (up to 64)")
    if not kind or not KEY.match(kind):
        raise InvalidInput(f"connector kind {kind!r} is not a valid kind name")
    if session.scalar(select(Channel.id).where(Channel.key == key)) is not None:
        raise Conflict(f"channel {key!r} already exists")
    owner_id = None
    if owner_team:
        owner_id = team_id(session, owner_team)
        if owner_id is None:
            raise InvalidInput(f"unknown team {owner_team!r}")
    plain, secret = split_config(kind, dict(config or {}), key)
    channel = Channel(key=key, kind=kind, name=(name or key)[:200], config=plain,
                      secrets=encrypt(secret, secret_key or DEV_SECRET), owner_team_id=owner_id)
    session.add(channel)
    session.flush()
    return channel


def list_channels(session: Session) -> list[Channel]:
    return list(session.scalars(select(Channel).order_by(Channel.key)))


def channel_keys(session: Session, enabled_only: bool = False) -> list[str]:
    """Channel keys in key order (the choices of a channel field); `enabled_only` leaves out removed ones."""
    query = select(Channel.key).order_by(Channel.key)
    return list(session.scalars(query.where(Channel.enabled.is_(True)) if enabled_only else query))


def channel_keys_by_id(session: Session) -> dict[int, str]:
    """id -> key of every channel (to name the channels of many rows with one query)."""
    return dict(session.execute(select(Channel.id, Channel.key)).all())


def channel_names_by_id(session: Session) -> dict[int, str]:
    """id -> name of every channel (what people read)."""
    return dict(session.execute(select(Channel.id, Channel.name)).all())


def enabled_channels(session: Session) -> list[Channel]:
    return list(session.scalars(select(Channel).where(Channel.enabled.is_(True)).order_by(Channel.key)))


def channel_labels(session: Session) -> list:
    """(key, name, kind) of every channel, in key order: what a page shows to pick or name one."""
    return list(session.execute(select(Channel.key, Channel.name, Channel.kind).order_by(Channel.key)).all())


def channel_kind(session: Session, channel_id: int | None) -> str | None:
    if channel_id is None:
        return None
    return session.scalar(select(Channel.kind).where(Channel.id == channel_id))


def get_channel(session: Session, key: str) -> Channel:
    channel = session.scalar(select(Channel).where(Channel.key == key))
    if channel is None:
        raise NotFound(f"no channel {key!r}")
    return channel


def _defaults(kind: str, key: str, config: dict) -> dict:
    if kind == "sandbox":
        # Each simulated account gets its own traffic, addressed to it.
        config.setdefault("channel_key", key)
    return config


def split_config(kind: str, config: dict, key: str) -> tuple[dict, dict]:
    """Validate against the connector's settings model; return (plain settings, secret settings)."""
    config = _defaults(kind, key, config)
    try:
        registry.validate(kind, config)
        secret_names = {f["name"] for f in registry.settings_fields(kind) if f["secret"]}
    except registry.SettingsError as exc:
        raise InvalidInput(str(exc)) from None
    plain = {k: v for k, v in config.items() if k not in secret_names}
    secret = {k: v for k, v in config.items() if k in secret_names}
    return plain, secret


def channel_config(channel: Channel, secret_key: str) -> dict:
    return {**(channel.config or {}), **decrypt(channel.secrets, secret_key)}


def connector_settings(channel: Channel, secret_key: str) -> dict:
    """Everything the channel's connector is built with: its settings, secrets decrypted, defaults filled."""
    return _defaults(channel.kind, channel.key, channel_config(channel, secret_key))


def connector_for(channel: Channel, secret_key: str, http=None):
    """A connector configured for this channel (secrets decrypted in memory only)."""
    try:
        return registry.build(channel.kind, connector_settings(channel, secret_key), http=http)
    except registry.SettingsError as exc:
        raise InvalidInput(f"channel {channel.key}: {exc}") from None


def replace_config(channel: Channel, changes: dict, secret_key: str) -> Channel:
    """Reconnect: merge new settings (fresh tokens) into the channel's, validated, secrets encrypted again."""
    merged = {**channel_config(channel, secret_key), **changes}
    plain, secret = split_config(channel.kind, {k: v for k, v in merged.items() if v is not None}, channel.key)
    channel.config, channel.secrets = plain, encrypt(secret, secret_key)
    channel.enabled = True
    set_health(channel, "unknown", "reconnected; not tested yet")
    return channel


def keep_renewed(channel: Channel, connector, secret_key: str) -> bool:
    """Store the settings a connector renewed while working (X rotates its refresh token on each renewal: the
    old one no longer works). True when there was something to store."""
    renewed = getattr(connector, "renewed", None)
    if not renewed:
        return False
    merged = {**channel_config(channel, secret_key), **renewed}
    channel.config, secret = split_config(channel.kind, {k: v for k, v in merged.items() if v is not None},
                                          channel.key)
    channel.secrets = encrypt(secret, secret_key)
    return True


def set_health(channel: Channel, status: str, detail: str | None) -> None:
    channel.health, channel.health_detail = status, (detail or "")[:2000]


def test_channel(session: Session, key: str, secret_key: str) -> dict:
    """Check the channel's credentials with the platform and record its health."""
    channel = get_channel(session, key)
    connector = connector_for(channel, secret_key)
    result = connector.check()
    keep_renewed(channel, connector, secret_key)
    set_health(channel, result.get("status", "unknown"), result.get("detail"))
    return result


def remove_channel(session: Session, key: str) -> Channel:
    """Disable a channel. Its messages and cases stay: they are the organization's history."""
    channel = get_channel(session, key)
    channel.enabled = False
    channel.health = "removed"
    return channel


def rotate_secrets(session: Session, old_key: str, new_key: str) -> int:
    """Re-encrypt every channel's secrets under a new ONEVOICE_SECRET_KEY."""
    count = 0
    for channel in session.scalars(select(Channel).where(Channel.secrets.is_not(None))):
        channel.secrets = rotate(channel.secrets, old_key, new_key)
        count += 1
    return count
