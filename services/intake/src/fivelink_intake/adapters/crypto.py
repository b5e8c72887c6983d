"""Field-wise encryption of personal data at rest (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

from cryptography.fernet import Fernet

PERSONAL_FIELDS = ("name", "id_number", "phone", "address")


class FieldCipher:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, fields: dict[str, str | None]) -> dict[str, str]:
        """Encrypt each present personal field on its own; absent fields stay absent."""
        return {
            name: self._fernet.encrypt(value.encode()).decode()
            for name, value in fields.items()
            if name in PERSONAL_FIELDS and value
        }

    def decrypt(self, stored: dict[str, str]) -> dict[str, str]:
        return {
            name: self._fernet.decrypt(token.encode()).decode() for name, token in stored.items()
        }
