"""The exception family of the crypto package."""


class CryptoError(Exception):
    """Base class of every error the crypto package raises."""


class DecryptionError(CryptoError):
    """Ciphertext, a wrapped key or a key slot could not be authenticated.

    One opaque error covers a wrong key, a wrong passphrase, tampering, truncation,
    reordering and trailing data, so that a caller cannot tell them apart and no
    message ever echoes a key, a passphrase or a codename.
    """

    def __init__(self) -> None:
        super().__init__("decryption failed")


class DerivationBusy(CryptoError):
    """Every codename derivation slot stayed taken for the whole wait."""

    def __init__(self) -> None:
        super().__init__("too many codename derivations at once")
