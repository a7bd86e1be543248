import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    """Factories set a password for every user; PBKDF2's real cost adds nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
