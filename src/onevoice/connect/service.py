"""Connect a channel from the Accounts page (admins only), or reconnect one whose credentials stopped working.

A platform sign-in is two requests: `start` remembers the attempt server-side (the state's hash, bound to the
admin's sign-in session, valid for ten minutes, with the PKCE verifier and app secret encrypted) and returns
the platform's address; `callback` takes the state back exactly once, exchanges the code, stores the
credentials straight into the channel's encrypted secrets and tests them. A denied sign-in, an unknown, used
or expired state, or a platform error ends the attempt with a clear message and stores nothing. Every step
is in the audit log (the channel's own creation and credential change are recorded by the audit hook too).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from onevoice import egress
from onevoice.audit import log as audit
from onevoice.audit.actor import bind_actor
from onevoice.auth.models import UserSession
from onevoice.auth.permissions import require
from onevoice.auth.principal import Principal
from onevoice.channels import service as channels
from onevoice.channels.secrets import decrypt, encrypt
from onevoice.connect.forms import FORMS, NOT_PREFILLED, config_from_form
from onevoice.connect.models import ChannelConnect
from onevoice.connect.platforms import OAUTH, TIMEOUT, PlatformFailed
from onevoice.connectors import registry
from onevoice.connectors.base import Capability
from onevoice.db import utcnow
from onevoice.errors import Forbidden, InvalidInput, NotFound
from onevoice.governance import accounts
from onevoice.teams.service import team_id

CONNECTORS = frozenset({"admin"})
LIFETIME = timedelta(minutes=10)
# What says which account a channel is; reconnecting must sign in as the same one.
IDENTITY = {"x": "user_id", "reddit": "username", "meta": "page_id", "mastodon": "api_base_url"}
# What reconnecting reuses from the channel instead of asking again (the app's credentials).
APP_FIELDS = {"x": ("client_id", "client_secret"), "reddit": ("client_id", "client_secret", "subreddit"),
              "meta": ("app_id", "app_secret"), "mastodon": ()}


@dataclass
class Result:
    """What the result page shows: the channel, the test, where the platform must send its webhooks."""

    ok: bool
    kind: str
    key: str
    message: str = ""
    account: str = ""
    test: dict | None = None
    webhook: bool = False
    shown: dict = field(default_factory=dict)  # shown once: a generated secret, Meta's verify token
    reconnect: bool = False
    choices: list[dict] = field(default_factory=list)  # Meta: the Pages to pick from
    connect_id: int | None = None
    url: str = ""  # start: where the browser goes to sign in at the platform


def choices() -> list[dict]:
    """Every kind that can be connected from the page, in the order shown."""
    out = [{"kind": k, "label": p.label, "how": "sign in at the platform"} for k, p in OAUTH.items()]
    out += [{"kind": k, "label": label, "how": how} for k, (label, _f), how in
            ((k, FORMS[k], h) for k, h in (("bluesky", "an app password"), ("email", "mail server settings"),
                                           ("webhook", "a generated secret and address")))]
    return out


def fields_for(kind: str) -> tuple[str, tuple]:
    if kind in OAUTH:
        return OAUTH[kind].label, OAUTH[kind].fields
    if kind in FORMS:
        return FORMS[kind]
    raise NotFound(f"no way to connect {kind!r} from the pages; known: {', '.join(c['kind'] for c in choices())}")


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _session_id(session: Session, session_token: str) -> int:
    found = session.scalar(select(UserSession.id).where(
        UserSession.token_hash == hashlib.sha256(session_token.encode()).hexdigest()))
    if found is None:
        raise Forbidden("sign in again to connect a channel")
    return found


def _check_new(session: Session, key: str, kind: str, owner_team: str | None) -> None:
    """What add_channel would refuse, said before the admin is sent to the platform."""
    if not channels.KEY.match(key or ""):
        raise InvalidInput(f"channel key {key!r} must be lowercase letters, digits, '-' or '_' (up to 64)")
    try:
        channels.get_channel(session, key)
    except NotFound:
        pass
    else:
        raise InvalidInput(f"channel {key!r} already exists: choose another key, or reconnect it from its row")
    if owner_team and team_id(session, owner_team) is None:
        raise InvalidInput(f"unknown team {owner_team!r}")


def _client() -> httpx.Client:
    return egress.client(timeout=httpx.Timeout(TIMEOUT, connect=10.0))


def start(session: Session, who: Principal, session_token: str, kind: str, form: dict, redirect_uri: str,
          secret_key: str, ip: str | None = None, http: httpx.Client | None = None,
          reconnect: str | None = None) -> Result:
    """Begin a platform sign-in: `url` is where to send the browser (empty, with `message`, when the platform
    refused, e.g. Mastodon's app registration). `reconnect` is an existing channel's key."""
    require(who, CONNECTORS, "connect channels")
    if kind not in OAUTH:
        raise InvalidInput(f"{kind} is not connected by signing in at the platform")
    if reconnect:
        channel = channels.get_channel(session, reconnect)
        if channel.kind != kind:
            raise InvalidInput(f"channel {reconnect} is a {channel.kind} channel")
        current = channels.channel_config(channel, secret_key)
        key, name, owner = channel.key, channel.name, None
        stored = {f: current.get(f) for f in APP_FIELDS[kind] if current.get(f)}
        form = {**stored, **{k: v for k, v in form.items() if v}}
        if kind == "mastodon":
            form.setdefault("instance", current.get("api_base_url", ""))
    else:
        key, name = (form.get("key") or "").strip(), (form.get("name") or "").strip()
        owner = form.get("owner_team") or None
        _check_new(session, key, kind, owner)
    state = secrets.token_urlsafe(32)
    client = http or _client()
    try:
        started = OAUTH[kind].start(client, form, redirect_uri, state)
    except PlatformFailed as exc:
        audit.record(session, who, "channel.connect.failed", f"channel:{key}", {"kind": kind, "step": "start",
                                                                               "reason": str(exc)[:300]}, ip)
        return Result(False, kind, key, f"{exc}. Nothing was stored.", reconnect=bool(reconnect))
    finally:
        if http is None:
            client.close()
    keep = {"platform": started.keep, "name": name or key, "owner_team": owner}
    now = utcnow()
    # Attempts over a day old are spent either way (the audit log keeps what happened): no secrets linger.
    session.execute(delete(ChannelConnect).where(ChannelConnect.expires_at < now - timedelta(days=1)))
    session.add(ChannelConnect(state_hash=_hash(state), session_id=_session_id(session, session_token),
                               user_id=who.user_id, kind=kind, channel_key=key, reconnect=bool(reconnect),
                               data=encrypt(keep, secret_key) or "", created_at=now, expires_at=now + LIFETIME))
    audit.record(session, who, "channel.connect.start", f"channel:{key}",
                 {"kind": kind, "reconnect": bool(reconnect)}, ip)
    return Result(True, kind, key, reconnect=bool(reconnect), url=started.url)


def _fail(session: Session, who: Principal, row: ChannelConnect | None, kind: str, key: str, message: str,
          ip: str | None) -> Result:
    if row is not None:
        row.stage, row.error = "failed", message[:2000]
    audit.record(session, who, "channel.connect.failed", f"channel:{key}" if key else "channel",
                 {"kind": kind, "reason": message[:300]}, ip)
    return Result(False, kind, key, message)


def callback(session: Session, who: Principal, session_token: str, state: str, code: str, error: str,
             error_description: str, redirect_uri: str, secret_key: str, base_url: str, ip: str | None = None,
             http: httpx.Client | None = None) -> Result:
    """Finish a platform sign-in. The state is taken exactly once, and only by the session that started it."""
    require(who, CONNECTORS, "connect channels")
    row = session.scalar(select(ChannelConnect).where(ChannelConnect.state_hash == _hash(state or "-")))
    if row is None or row.session_id != _session_id(session, session_token):
        # Someone else's state is answered like an unknown one: it does not tell whose it is.
        return _fail(session, who, None, "", "", "This sign-in is unknown or was started in another browser "
                     "session. Nothing was stored; start again from the Accounts page.", ip)
    taken = session.execute(update(ChannelConnect).where(ChannelConnect.id == row.id, ChannelConnect.used_at.is_(None))
                            .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not taken:
        return _fail(session, who, None, row.kind, row.channel_key, "This sign-in was already used. Nothing more "
                     "was stored; start again from the Accounts page if the channel is not connected.", ip)
    label = OAUTH[row.kind].label
    if row.expires_at <= utcnow():
        return _fail(session, who, row, row.kind, row.channel_key, f"The sign-in at {label} took longer than "
                     f"{int(LIFETIME.total_seconds() // 60)} minutes and expired. Nothing was stored; start again.", ip)
    if error:
        said = f" ({error_description[:300]})" if error_description else ""
        why = "you declined access" if error in ("access_denied", "user_denied") else f"{label} answered {error[:100]}"
        return _fail(session, who, row, row.kind, row.channel_key,
                     f"{label} did not connect the channel: {why}{said}. Nothing was stored.", ip)
    if not code:
        return _fail(session, who, row, row.kind, row.channel_key,
                     f"{label} sent no sign-in code back. Nothing was stored; start again.", ip)
    keep = decrypt(row.data, secret_key)
    client = http or _client()
    try:
        finished = OAUTH[row.kind].finish(client, keep["platform"], code, redirect_uri)
    except PlatformFailed as exc:
        return _fail(session, who, row, row.kind, row.channel_key, f"{label}: {exc}. Nothing was stored.", ip)
    finally:
        if http is None:
            client.close()
    if finished.config is None:  # Meta: the admin picks the Page next
        keep["choices"] = finished.choices
        row.stage, row.data = "pick", encrypt(keep, secret_key) or ""
        audit.record(session, who, "channel.connect.signed_in", f"channel:{row.channel_key}",
                     {"kind": row.kind, "account": finished.account}, ip)
        return Result(True, row.kind, row.channel_key, account=finished.account, reconnect=row.reconnect,
                      choices=[{"id": c["id"], "name": c["name"], "instagram": c.get("instagram_username")}
                               for c in finished.choices], connect_id=row.id)
    return _store(session, who, row, keep, finished.config, finished.account, secret_key, ip)


def pick(session: Session, who: Principal, session_token: str, connect_id: int, page_id: str, secret_key: str,
         ip: str | None = None) -> Result:
    """Meta: connect the Page the admin chose among those the sign-in allowed."""
    require(who, CONNECTORS, "connect channels")
    row = session.get(ChannelConnect, connect_id)
    if row is None or row.session_id != _session_id(session, session_token) or row.stage != "pick":
        return _fail(session, who, None, "meta", "", "This Page choice is unknown or was already made. Nothing "
                     "more was stored; start again from the Accounts page.", ip)
    if row.expires_at <= utcnow():
        return _fail(session, who, row, row.kind, row.channel_key, "The Page choice expired. Nothing was stored; "
                     "start again.", ip)
    keep = decrypt(row.data, secret_key)
    page = next((c for c in keep.get("choices", []) if c["id"] == page_id), None)
    if page is None:
        raise InvalidInput("choose one of the Pages listed")
    config = OAUTH["meta"].pick(keep["platform"], page)  # type: ignore[union-attr]
    account = page["name"] + (f" and @{page['instagram_username']}" if page.get("instagram_username") else "")
    result = _store(session, who, row, keep, config, account, secret_key, ip)
    if result.ok:
        result.shown["verify_token"] = config["verify_token"]
    return result


def _store(session: Session, who: Principal, row: ChannelConnect, keep: dict, config: dict, account: str,
           secret_key: str, ip: str | None) -> Result:
    bind_actor(session, who, ip)
    try:
        if row.reconnect:
            channel = channels.get_channel(session, row.channel_key)
            ident = IDENTITY.get(row.kind)
            before = channels.channel_config(channel, secret_key).get(ident) if ident else None
            if ident and before and str(before).rstrip("/") != str(config.get(ident)).rstrip("/"):
                return _fail(session, who, row, row.kind, row.channel_key, f"You signed in as {account}, which is "
                             f"not the account of channel {row.channel_key}. Nothing was stored.", ip)
            if row.kind == "meta":  # the webhook verify token stays what the Meta app was given
                config.pop("verify_token", None)
            channels.replace_config(channel, config, secret_key)
        else:
            channels.add_channel(session, row.channel_key, row.kind, keep.get("name"), config, keep.get("owner_team"),
                                 secret_key)
    except (InvalidInput, NotFound) as exc:
        return _fail(session, who, row, row.kind, row.channel_key, f"{exc}. Nothing was stored.", ip)
    row.stage, row.data = "done", encrypt({"account": account}, secret_key) or ""  # no tokens left behind
    return _finish(session, who, row.kind, row.channel_key, account, row.reconnect, secret_key, ip)


def _finish(session: Session, who: Principal, kind: str, key: str, account: str, reconnect: bool, secret_key: str,
            ip: str | None, shown: dict | None = None) -> Result:
    session.flush()
    test = accounts.test(session, who, key, secret_key, ip)
    audit.record(session, who, "channel.connect.done", f"channel:{key}",
                 {"kind": kind, "account": account, "reconnect": reconnect, "test": test.get("status")}, ip)
    return Result(True, kind, key, account=account, test=test, reconnect=reconnect, shown=shown or {},
                  webhook=Capability.WEBHOOK in registry.get(kind).capabilities)


def connect_with_form(session: Session, who: Principal, kind: str, form: dict, secret_key: str,
                      ip: str | None = None, reconnect: str | None = None) -> Result:
    """Bluesky, email and the webhook: the settings are typed here, stored encrypted, then tested."""
    require(who, CONNECTORS, "connect channels")
    if kind not in FORMS:
        raise InvalidInput(f"{kind} is connected by signing in at the platform")
    config, shown = config_from_form(kind, form)
    bind_actor(session, who, ip)
    if reconnect:
        channel = channels.get_channel(session, reconnect)
        if channel.kind != kind:
            raise InvalidInput(f"channel {reconnect} is a {channel.kind} channel")
        channels.replace_config(channel, config, secret_key)
        key = channel.key
    else:
        key = (form.get("key") or "").strip()
        _check_new(session, key, kind, form.get("owner_team") or None)
        channels.add_channel(session, key, kind, (form.get("name") or "").strip() or None, config,
                             form.get("owner_team") or None, secret_key)
    account = str(config.get("handle") or config.get("address") or key)
    return _finish(session, who, kind, key, account, bool(reconnect), secret_key, ip, shown)


def reconnect_info(session: Session, who: Principal, key: str, secret_key: str) -> dict:
    """A channel to reconnect: its kind and, for the form kinds, the settings to show again (never secrets)."""
    require(who, CONNECTORS, "reconnect channels")
    channel = channels.get_channel(session, key)
    if channel.kind not in OAUTH and channel.kind not in FORMS:
        raise InvalidInput(f"channel {key} ({channel.kind}) is not connected from the pages: "
                           "onevoice channel add / docs/channels/")
    current = channels.channel_config(channel, secret_key)
    prefill = {k: v for k, v in current.items() if k not in NOT_PREFILLED and isinstance(v, str | int)}
    if channel.kind in OAUTH:
        prefill = {k: v for k, v in prefill.items() if k in APP_FIELDS[channel.kind] and "secret" not in k}
    return {"key": channel.key, "name": channel.name, "kind": channel.kind, "prefill": prefill}
