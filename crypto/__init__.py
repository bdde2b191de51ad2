"""Every cryptographic operation Lumen performs.

The public names here are the whole API: centre key pairs and their wrapping under a
caseworker passphrase, the streaming envelope for everything stored, key slots that
seal a content key to a recipient, codename generation and derivation.
"""

from crypto.codenames import (
    CODENAME_WORDS,
    codename_entropy_bits,
    generate_codename,
    normalize_codename,
    wordlist,
)
from crypto.derivation import KdfParams, SourceKeyDeriver, SourceKeys, derive_source_keys
from crypto.envelope import (
    CHUNK_SIZE,
    ContentKey,
    EnvelopeReader,
    EnvelopeWriter,
    decrypt_bytes,
    decrypt_stream,
    encrypt_bytes,
    encrypt_stream,
)
from crypto.errors import CryptoError, DecryptionError, DerivationBusy
from crypto.keys import (
    generate_private_key,
    open_key_slot,
    seal_key_slot,
    unwrap_private_key,
    wrap_private_key,
)

__all__ = [
    "CHUNK_SIZE",
    "CODENAME_WORDS",
    "ContentKey",
    "CryptoError",
    "DecryptionError",
    "DerivationBusy",
    "EnvelopeReader",
    "EnvelopeWriter",
    "KdfParams",
    "SourceKeyDeriver",
    "SourceKeys",
    "codename_entropy_bits",
    "decrypt_bytes",
    "decrypt_stream",
    "derive_source_keys",
    "encrypt_bytes",
    "encrypt_stream",
    "generate_codename",
    "generate_private_key",
    "normalize_codename",
    "open_key_slot",
    "seal_key_slot",
    "unwrap_private_key",
    "wordlist",
    "wrap_private_key",
]
