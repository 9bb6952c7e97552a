"""The channels connected by filling in a form rather than signing in at the platform: Bluesky (an app
password), a shared mailbox (IMAP and SMTP) and the generic webhook (OneVoice generates the secret)."""

from __future__ import annotations

import secrets

from onevoice.connect.platforms import Field

FORMS: dict[str, tuple[str, tuple[Field, ...]]] = {
    "bluesky": ("Bluesky", (
        Field("handle", "Handle", "e.g. acme.bsky.social"),
        Field("app_password", "App password", "Bluesky: Settings > Privacy and security > App passwords", secret=True),
        Field("service", "Server", "leave empty for bsky.social", required=False),
    )),
    "email": ("Email (shared mailbox)", (
        Field("address", "Mailbox address", kind="email"),
        Field("display_name", "Name on outgoing mail", "e.g. Acme Support", required=False),
        Field("username", "Login"),
        Field("password", "Password", secret=True),
        Field("imap_host", "IMAP server", "e.g. imap.example.com"),
        Field("imap_port", "IMAP port", "993 with TLS", required=False, kind="number", default="993"),
        Field("imap_ssl", "IMAP over TLS", "leave on unless the server is on your own network", kind="check",
              default="1"),
        Field("smtp_host", "SMTP server", "e.g. smtp.example.com"),
        Field("smtp_port", "SMTP port", "465 with TLS, 587 with STARTTLS", required=False, kind="number",
              default="465"),
        Field("smtp_security", "SMTP security", kind="choice", options=("ssl", "starttls", "none"), default="ssl"),
    )),
    "webhook": ("Generic webhook", (
        Field("outbound_url", "Where replies and posts are sent", "an https URL of your system; optional",
              required=False, kind="url"),
    )),
}

# Secrets the page never shows back in a form (reconnecting asks for them again).
NOT_PREFILLED = {"app_password", "password", "secret", "smtp_password"}


def config_from_form(kind: str, form: dict) -> tuple[dict, dict]:
    """(the channel's settings, what to show once on the result page). Empty optional fields are left out, so
    the connector's defaults apply; the connector's settings model does the real validation."""
    _label, fields = FORMS[kind]
    config: dict = {}
    for f in fields:
        if f.kind == "check":  # a checkbox left unticked is not sent at all
            config[f.name] = str(form.get(f.name) or "").strip().lower() in ("1", "on", "true", "yes")
            continue
        value = str(form.get(f.name) or "").strip()
        if value:
            config[f.name] = int(value) if f.kind == "number" and value.isdigit() else value
    shown: dict = {}
    if kind == "webhook":
        config["secret"] = shown["secret"] = secrets.token_urlsafe(32)
    if kind == "bluesky":
        config["handle"] = str(config.get("handle", "")).removeprefix("@")
    return config, shown
