"""plugins.webhooks.secrets: AES-256-GCM encryption of signing secrets at rest."""
from __future__ import annotations

import base64

import pytest

from plugins.webhooks.secrets import SecretBox

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_round_trip():
    box = SecretBox(SecretBox.generate_key())
    token = box.encrypt(SECRET)
    assert SECRET not in token and token.isascii()
    assert box.decrypt(token) == SECRET


def test_each_encryption_uses_a_fresh_nonce():
    box = SecretBox(SecretBox.generate_key())
    first, second = box.encrypt(SECRET), box.encrypt(SECRET)
    assert first != second
    assert box.decrypt(first) == box.decrypt(second) == SECRET


def test_generated_keys_are_32_random_bytes():
    key = SecretBox.generate_key()
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert SecretBox.generate_key() != key


def test_key_without_padding_is_accepted():
    key = SecretBox.generate_key()
    box = SecretBox(key)
    assert SecretBox(key.rstrip("=")).decrypt(box.encrypt("x")) == "x"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not base64 at all!",
        base64.urlsafe_b64encode(b"k" * 16).decode(),  # AES-128 size
        base64.urlsafe_b64encode(b"k" * 33).decode(),
        None,
    ],
)
def test_bad_key_names_the_setting_and_hides_the_value(key):
    with pytest.raises(ValueError, match="interviewminds.webhooks.encryption_key") as refused:
        SecretBox(key)
    if key:
        assert key not in str(refused.value)


def test_tampered_ciphertext_is_refused():
    box = SecretBox(SecretBox.generate_key())
    token = box.encrypt(SECRET)
    blob = bytearray(base64.urlsafe_b64decode(token[3:] + "=" * (-len(token[3:]) % 4)))
    blob[-1] ^= 0x01
    tampered = "v1." + base64.urlsafe_b64encode(bytes(blob)).decode().rstrip("=")
    with pytest.raises(ValueError, match="altered"):
        box.decrypt(tampered)


def test_wrong_key_is_refused():
    token = SecretBox(SecretBox.generate_key()).encrypt(SECRET)
    with pytest.raises(ValueError, match="interviewminds.webhooks.encryption_key"):
        SecretBox(SecretBox.generate_key()).decrypt(token)


@pytest.mark.parametrize("token", ["", SECRET, "v1.", "v1.AAAA", "v1.$$$", None])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(ValueError):
        SecretBox(SecretBox.generate_key()).decrypt(token)
