"""channel secrets re-encrypted under an HKDF-derived key (was a bare SHA-256 of the secret)

The key comes from the process that migrates (`onevoice db upgrade`, `serve`: ONEVOICE_SECRET_KEY), handed in
by onevoice.migrate as the config attribute `secret_key`, else read from the environment's settings. A row
that key cannot open is left as it is: channels/secrets.py still reads the old derivation, so nothing is lost,
and `onevoice keys rotate` re-encrypts it later. The derivations are written out here, not imported, so this
migration keeps meaning what it meant when the code moves on.

Revision ID: 0019_secrets_hkdf
Revises: 0014_vocabulary
Create Date: 2026-12-06 06:40:00
"""
import base64
import hashlib

import sqlalchemy as sa
from alembic import context, op
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

revision = '0019_secrets_hkdf'
down_revision = '0014_vocabulary'
branch_labels = None
depends_on = None

INFO = b"onevoice-channel-secrets"


def _hkdf(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _sha256(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(INFO + b":" + secret.encode()).digest()))


def _secret() -> str:
    given = context.config.attributes.get("secret_key")
    if given:
        return given
    from onevoice.settings import Settings

    return Settings().secret_key.get_secret_value()


def _reencrypt(new: Fernet, old: Fernet) -> None:
    conn = op.get_bind()
    keys = MultiFernet([new, old])
    for row_id, token in conn.execute(sa.text("SELECT id, secrets FROM channels WHERE secrets IS NOT NULL")).all():
        try:
            again = keys.rotate(token.encode()).decode()
        except InvalidToken:
            continue  # made under another key: still readable the old way, see the docstring
        conn.execute(sa.text("UPDATE channels SET secrets = :s WHERE id = :i"), {"s": again, "i": row_id})


def upgrade() -> None:
    secret = _secret()
    _reencrypt(_hkdf(secret), _sha256(secret))


def downgrade() -> None:
    secret = _secret()
    _reencrypt(_sha256(secret), _hkdf(secret))
