"""Channel secrets: an HKDF-derived key (issue 12), existing secrets re-encrypted by migration 0019, the old
derivation still read, rotation with MultiFernet."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from onevoice.channels.models import Channel
from onevoice.channels.secrets import decrypt, encrypt, hkdf_key, legacy_key, rotate
from onevoice.migrate import upgrade

KEY = "a-production-secret-key-of-some-length"
VALUES = {"secret": "s3cr3t", "token": "tok"}


def _legacy(values: dict, key: str = KEY) -> str:
    """A token as OneVoice wrote it before 0019."""
    import orjson

    return Fernet(legacy_key(key)).encrypt(orjson.dumps(values)).decode()


def test_new_secrets_use_the_hkdf_key_and_old_ones_still_open():
    token = encrypt(VALUES, KEY)
    assert Fernet(hkdf_key(KEY)).decrypt(token.encode())
    with pytest.raises(InvalidToken):
        Fernet(legacy_key(KEY)).decrypt(token.encode())
    assert decrypt(token, KEY) == VALUES
    assert decrypt(_legacy(VALUES), KEY) == VALUES
    with pytest.raises(ValueError, match="ONEVOICE_SECRET_KEY"):
        decrypt(token, "another key")


def test_rotation_opens_either_derivation_and_writes_the_new_key_with_hkdf():
    for token in (encrypt(VALUES, KEY), _legacy(VALUES)):
        moved = rotate(token, KEY, "the new key")
        assert Fernet(hkdf_key("the new key")).decrypt(moved.encode())
        assert decrypt(moved, "the new key") == VALUES
    with pytest.raises(ValueError):
        rotate(encrypt(VALUES, KEY), "a wrong old key", "the new key")


def test_migration_0019_reencrypts_existing_secrets_and_leaves_what_it_cannot_open(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0014_vocabulary")
    engine = create_engine(url)
    other = _legacy({"token": "made under another key"}, key="some other key")
    with Session(engine) as session, session.begin():
        session.add_all([Channel(key="mine", kind="webhook", name="Mine", config={}, secrets=_legacy(VALUES)),
                         Channel(key="theirs", kind="webhook", name="Theirs", config={}, secrets=other),
                         Channel(key="none", kind="webhook", name="None", config={}, secrets=None)])
    with pytest.raises(InvalidToken):  # before 0019: the old derivation
        Fernet(hkdf_key(KEY)).decrypt(_legacy(VALUES).encode())
    upgrade(url, secret_key=KEY)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT key, secrets FROM channels")).all())
    assert Fernet(hkdf_key(KEY)).decrypt(rows["mine"].encode())  # re-encrypted under the HKDF key
    assert decrypt(rows["mine"], KEY) == VALUES
    assert rows["theirs"] == other and rows["none"] is None
    engine.dispose()
