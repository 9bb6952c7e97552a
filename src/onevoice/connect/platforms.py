"""Each platform's sign-in (OAuth 2.0 authorization code) for a channel: where to send the admin, and how to
turn the code the platform sends back into the channel's settings.

Pure I/O through the httpx client it is given (`egress.client()` in the product, so an instance URL the admin
typed cannot reach the internal network); no database, no web layer. What a later step needs (the app's
client secret, the PKCE verifier, a Meta user's pages) is returned to the caller to keep server-side.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx

from onevoice import egress
from onevoice.errors import InvalidInput

TIMEOUT = 15.0
USER_AGENT = "onevoice:connect:0.1"
GRAPH_VERSION = "v21.0"


class PlatformFailed(Exception):
    """The platform refused or answered something we cannot use: shown to the admin, nothing is stored."""


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    help: str = ""
    secret: bool = False
    required: bool = True
    kind: str = "text"  # an input type, or "check" (a checkbox) or "choice" (a select of `options`)
    options: tuple[str, ...] = ()
    default: str = ""


@dataclass
class Started:
    url: str  # where the browser goes to sign in at the platform
    keep: dict  # what the callback needs, kept encrypted on the server


@dataclass
class Finished:
    account: str  # who signed in, as the platform names the account
    config: dict | None = None  # the channel's settings, secrets included
    choices: list[dict] = field(default_factory=list)  # Meta: the Pages to choose from (config is then None)


def _json(response: httpx.Response, what: str) -> dict:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400 or not isinstance(data, dict):
        detail = ""
        if isinstance(data, dict):
            err = data.get("error")
            detail = (err.get("message") if isinstance(err, dict) else err) or data.get("message") or ""
            detail = f"{detail}: {data.get('error_description')}" if data.get("error_description") else detail
        raise PlatformFailed(f"{what} failed (HTTP {response.status_code}{', ' + str(detail)[:300] if detail else ''})")
    return data


def _call(what: str, send) -> dict:
    try:
        return _json(send(), what)
    except egress.Refused as exc:
        raise PlatformFailed(f"{what}: {exc}") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise PlatformFailed(f"{what}: the platform could not be reached ({exc.__class__.__name__})") from None


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge), RFC 7636."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _need(form: dict, *names: str) -> None:
    missing = [n for n in names if not str(form.get(n) or "").strip()]
    if missing:
        raise InvalidInput(f"fill in {', '.join(missing)}")


# --- Mastodon: the app is registered on the instance the admin names -----------------------------------

MASTODON_SCOPES = "read write"


def instance_url(value: str) -> str:
    """https://host[:port] from what the admin typed ("mastodon.social" is fine); refuses the rest."""
    text = (value or "").strip().rstrip("/")
    if not text:
        raise InvalidInput("name the Mastodon server, e.g. mastodon.social")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - a port that is not a number ("javascript:alert(1)") raises here
    except ValueError:
        raise InvalidInput("that is not a server address, e.g. https://mastodon.social") from None
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/") or parts.query or parts.username:
        raise InvalidInput("the Mastodon server must be an https address without a path, e.g. https://mastodon.social")
    try:
        egress.current().check_url(text)
    except egress.Refused as exc:
        raise InvalidInput(f"that server cannot be reached from OneVoice: {exc}") from None
    return f"https://{parts.netloc.lower()}"


class Mastodon:
    kind = "mastodon"
    label = "Mastodon"
    fields = (Field("instance", "Server", "the organization's Mastodon server, e.g. mastodon.social"),)

    def start(self, http: httpx.Client, form: dict, redirect_uri: str, state: str) -> Started:
        base = instance_url(form.get("instance", ""))
        app = _call("Registering OneVoice on the server", lambda: http.post(
            f"{base}/api/v1/apps", data={"client_name": "OneVoice", "redirect_uris": redirect_uri,
                                         "scopes": MASTODON_SCOPES}))
        if not app.get("client_id") or not app.get("client_secret"):
            raise PlatformFailed("the server registered the app but gave no client id and secret")
        query = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": redirect_uri,
                 "scope": MASTODON_SCOPES, "state": state}
        return Started(f"{base}/oauth/authorize?{urlencode(query)}",
                       {"instance": base, "client_id": app["client_id"], "client_secret": app["client_secret"]})

    def finish(self, http: httpx.Client, keep: dict, code: str, redirect_uri: str) -> Finished:
        base = keep["instance"]
        token = _call("Exchanging the sign-in code", lambda: http.post(f"{base}/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": keep["client_id"],
            "client_secret": keep["client_secret"], "redirect_uri": redirect_uri, "scope": MASTODON_SCOPES}))
        access = token.get("access_token")
        if not access:
            raise PlatformFailed("the server returned no access token")
        me = _call("Reading the signed-in account", lambda: http.get(
            f"{base}/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {access}"}))
        return Finished(f"@{me.get('acct') or me.get('username') or '?'}@{urlsplit(base).hostname}",
                        {"api_base_url": base, "access_token": access})


# --- X: OAuth 2.0 with PKCE -------------------------------------------------------------------------------

X_AUTHORIZE = "https://x.com/i/oauth2/authorize"
X_API = "https://api.x.com"
X_SCOPES = "tweet.read tweet.write users.read dm.read dm.write offline.access"


class X:
    kind = "x"
    label = "X"
    fields = (Field("client_id", "OAuth 2.0 Client ID", "the app's Keys and tokens page, X developer portal"),
              Field("client_secret", "OAuth 2.0 Client Secret", "for a confidential client (web app)", secret=True,
                    required=False))

    def start(self, http: httpx.Client, form: dict, redirect_uri: str, state: str) -> Started:
        _need(form, "client_id")
        verifier, challenge = pkce_pair()
        query = {"response_type": "code", "client_id": form["client_id"].strip(), "redirect_uri": redirect_uri,
                 "scope": X_SCOPES, "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}
        return Started(f"{X_AUTHORIZE}?{urlencode(query)}",
                       {"client_id": form["client_id"].strip(), "code_verifier": verifier,
                        "client_secret": (form.get("client_secret") or "").strip()})

    def finish(self, http: httpx.Client, keep: dict, code: str, redirect_uri: str) -> Finished:
        auth = (keep["client_id"], keep["client_secret"]) if keep.get("client_secret") else None
        token = _call("Exchanging the sign-in code", lambda: http.post(f"{X_API}/2/oauth2/token", auth=auth, data={
            "grant_type": "authorization_code", "code": code, "client_id": keep["client_id"],
            "redirect_uri": redirect_uri, "code_verifier": keep["code_verifier"]}))
        access = token.get("access_token")
        if not access:
            raise PlatformFailed("X returned no access token")
        me = _call("Reading the signed-in account", lambda: http.get(
            f"{X_API}/2/users/me", headers={"Authorization": f"Bearer {access}"})).get("data") or {}
        if not str(me.get("id") or "").isdigit():
            raise PlatformFailed("X did not say which account signed in")
        config = {"user_id": str(me["id"]), "username": me.get("username"), "client_id": keep["client_id"],
                  "oauth2_access_token": access, "oauth2_refresh_token": token.get("refresh_token") or None,
                  "oauth2_expires_at": int(time.time()) + int(token.get("expires_in") or 7200),
                  "direct_messages": "dm.read" in str(token.get("scope") or "")}
        if keep.get("client_secret"):
            config["client_secret"] = keep["client_secret"]
        return Finished(f"@{me.get('username') or me['id']}", config)


# --- Reddit: a web app's authorization code, permanent (refresh token) -----------------------------------

REDDIT_AUTHORIZE = "https://www.reddit.com/api/v1/authorize"
REDDIT_TOKEN = "https://www.reddit.com/api/v1/access_token"
REDDIT_OAUTH = "https://oauth.reddit.com"
REDDIT_SCOPES = "identity read submit privatemessages edit history"


class Reddit:
    kind = "reddit"
    label = "Reddit"
    fields = (Field("client_id", "App client id", "a 'web app' at reddit.com/prefs/apps (the id under its name)"),
              Field("client_secret", "App secret", secret=True),
              Field("subreddit", "Subreddit to watch", "without r/; optional", required=False))

    def start(self, http: httpx.Client, form: dict, redirect_uri: str, state: str) -> Started:
        _need(form, "client_id", "client_secret")
        query = {"client_id": form["client_id"].strip(), "response_type": "code", "state": state,
                 "redirect_uri": redirect_uri, "duration": "permanent", "scope": REDDIT_SCOPES}
        keep = {"client_id": form["client_id"].strip(), "client_secret": form["client_secret"].strip(),
                "subreddit": (form.get("subreddit") or "").strip().removeprefix("r/") or None}
        return Started(f"{REDDIT_AUTHORIZE}?{urlencode(query)}", keep)

    def finish(self, http: httpx.Client, keep: dict, code: str, redirect_uri: str) -> Finished:
        token = _call("Exchanging the sign-in code", lambda: http.post(
            REDDIT_TOKEN, auth=(keep["client_id"], keep["client_secret"]), headers={"User-Agent": USER_AGENT},
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}))
        if not token.get("access_token") or not token.get("refresh_token"):
            raise PlatformFailed("Reddit returned no permanent token (was the app a 'web app'?)")
        me = _call("Reading the signed-in account", lambda: http.get(
            f"{REDDIT_OAUTH}/api/v1/me", headers={"Authorization": f"bearer {token['access_token']}",
                                                  "User-Agent": USER_AGENT}))
        if not me.get("name"):
            raise PlatformFailed("Reddit did not say which account signed in")
        config = {"client_id": keep["client_id"], "client_secret": keep["client_secret"], "username": me["name"],
                  "refresh_token": token["refresh_token"]}
        if keep.get("subreddit"):
            config["subreddit"] = keep["subreddit"]
        return Finished(f"u/{me['name']}", config)


# --- Facebook Pages and Instagram: Meta login, then the admin picks a Page --------------------------------

META_DIALOG = f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth"
META_GRAPH = f"https://graph.facebook.com/{GRAPH_VERSION}"
META_SCOPES = ",".join(("pages_show_list", "pages_manage_metadata", "pages_read_engagement", "pages_manage_posts",
                        "pages_manage_engagement", "pages_messaging", "instagram_basic", "instagram_manage_comments",
                        "instagram_manage_messages", "instagram_content_publish", "business_management"))


class Meta:
    kind = "meta"
    label = "Facebook Page and Instagram"
    fields = (Field("app_id", "Meta app id", "from the app's dashboard at developers.facebook.com"),
              Field("app_secret", "Meta app secret", "App settings > Basic; it also signs the webhooks", secret=True))

    def start(self, http: httpx.Client, form: dict, redirect_uri: str, state: str) -> Started:
        _need(form, "app_id", "app_secret")
        query = {"client_id": form["app_id"].strip(), "redirect_uri": redirect_uri, "state": state,
                 "response_type": "code", "scope": META_SCOPES}
        return Started(f"{META_DIALOG}?{urlencode(query)}",
                       {"app_id": form["app_id"].strip(), "app_secret": form["app_secret"].strip()})

    def finish(self, http: httpx.Client, keep: dict, code: str, redirect_uri: str) -> Finished:
        app = {"client_id": keep["app_id"], "client_secret": keep["app_secret"]}
        short = _call("Exchanging the sign-in code", lambda: http.get(
            f"{META_GRAPH}/oauth/access_token", params={**app, "redirect_uri": redirect_uri, "code": code}))
        # A long-lived user token makes the Page tokens derived from it long-lived too.
        long = _call("Getting a long-lived token", lambda: http.get(f"{META_GRAPH}/oauth/access_token", params={
            **app, "grant_type": "fb_exchange_token", "fb_exchange_token": short.get("access_token", "")}))
        pages = _call("Listing your Pages", lambda: http.get(f"{META_GRAPH}/me/accounts", params={
            "fields": "id,name,access_token,instagram_business_account{id,username}", "limit": 100,
            "access_token": long.get("access_token", "")}))
        choices = []
        for p in pages.get("data") or []:
            if not isinstance(p, dict) or not p.get("id") or not p.get("access_token"):
                continue
            ig = p.get("instagram_business_account") or {}
            choices.append({"id": str(p["id"]), "name": str(p.get("name") or p["id"])[:200],
                            "access_token": p["access_token"], "instagram_id": ig.get("id"),
                            "instagram_username": ig.get("username")})
        if not choices:
            raise PlatformFailed("this Facebook account manages no Page that OneVoice was allowed to use "
                                 "(choose at least one Page in Meta's dialog)")
        return Finished(f"{len(choices)} Page{'s' if len(choices) != 1 else ''}", None, choices)

    def pick(self, keep: dict, page: dict) -> dict:
        config = {"app_id": keep["app_id"], "app_secret": keep["app_secret"], "page_id": page["id"],
                  "page_access_token": page["access_token"], "verify_token": secrets.token_urlsafe(24)}
        if page.get("instagram_id"):
            config["instagram_account_id"] = str(page["instagram_id"])
        return config


OAUTH: dict[str, Mastodon | X | Reddit | Meta] = {p.kind: p for p in (Mastodon(), X(), Reddit(), Meta())}
