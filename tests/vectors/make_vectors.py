"""Write the known-answer vectors of the crypto formats.

Run once from the repository root with ``python tests/vectors/make_vectors.py``. The
envelope and wrap formats draw random nonces, headers and salts, so each run writes
different ciphertext for the same inputs: the files are generated once and committed,
and the tests check that today's code still opens them. The script refuses to replace
an existing file unless ``--force`` is given, because a replaced vector no longer proves
that old data still decrypts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent
ROOT = FOLDER.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from nacl.public import PrivateKey  # noqa: E402

from crypto import (  # noqa: E402
    CHUNK_SIZE,
    ContentKey,
    KdfParams,
    derive_source_keys,
    encrypt_bytes,
    wrap_private_key,
)

CONTENT_KEY = bytes(range(32))
RECORD_ID = "kav-record-1"
ENVELOPE_SIZES = (0, 1, 33, CHUNK_SIZE, CHUNK_SIZE + 1)
# Plaintexts up to this size are stored in full; longer ones by their SHA-256.
INLINE_PLAINTEXT = 64

DERIVATION_SALT = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
DERIVATION_PARAMS = KdfParams(opslimit=2, memlimit=64 * 1024 * 1024)
CODENAMES = (
    "zeven rode vissen springen over het dak",
    "été déjà noël façade œuvre garçon élève",
)

WRAP_PRIVATE_KEY = bytes.fromhex("a0" * 16 + "5b" * 16)
WRAP_PASSPHRASE = "Lumen known answer, passphrase één"
WRAP_PARAMS = KdfParams(opslimit=2, memlimit=1024 * 1024)


def plaintext(size: int) -> bytes:
    """Return the deterministic plaintext of ``size`` bytes that the vectors encrypt."""
    return bytes((index * 7 + 3) % 256 for index in range(size))


def envelope_vectors() -> dict[str, Any]:
    key = ContentKey(CONTENT_KEY)
    cases = []
    for size in ENVELOPE_SIZES:
        data = plaintext(size)
        case: dict[str, Any] = {
            "size": size,
            "plaintext_sha256": hashlib.sha256(data).hexdigest(),
            "envelope": encrypt_bytes(data, key, RECORD_ID).hex(),
        }
        if size <= INLINE_PLAINTEXT:
            case["plaintext"] = data.hex()
        cases.append(case)

    return {
        "description": (
            "Envelopes of plaintext(size) = bytes((i * 7 + 3) % 256 for i in range(size))"
        ),
        "content_key": CONTENT_KEY.hex(),
        "record_id": RECORD_ID,
        "chunk_size": CHUNK_SIZE,
        "cases": cases,
    }


def derivation_vectors() -> dict[str, Any]:
    cases = []
    for codename in CODENAMES:
        keys = derive_source_keys(codename, DERIVATION_SALT, DERIVATION_PARAMS)
        cases.append(
            {
                "codename": codename,
                "lookup_id": keys.lookup_id,
                "reply_public_key": bytes(keys.reply_key.public_key).hex(),
            }
        )

    return {
        "description": "derive_source_keys(codename, salt, KdfParams(opslimit, memlimit))",
        "salt": DERIVATION_SALT.hex(),
        "opslimit": DERIVATION_PARAMS.opslimit,
        "memlimit": DERIVATION_PARAMS.memlimit,
        "cases": cases,
    }


def wrap_vectors() -> dict[str, Any]:
    private_key = PrivateKey(WRAP_PRIVATE_KEY)
    wrapped = wrap_private_key(private_key, WRAP_PASSPHRASE, WRAP_PARAMS)

    return {
        "description": "wrap_private_key(private_key, passphrase, KdfParams(opslimit, memlimit))",
        "private_key": WRAP_PRIVATE_KEY.hex(),
        "public_key": bytes(private_key.public_key).hex(),
        "passphrase": WRAP_PASSPHRASE,
        "opslimit": WRAP_PARAMS.opslimit,
        "memlimit": WRAP_PARAMS.memlimit,
        "wrapped": wrapped.hex(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="replace existing vector files")
    arguments = parser.parse_args()

    builders = {
        "envelope.json": envelope_vectors,
        "derivation.json": derivation_vectors,
        "wrap.json": wrap_vectors,
    }
    for name, build in builders.items():
        path = FOLDER / name
        if path.exists() and not arguments.force:
            print(f"{path} exists; kept it (pass --force to replace it)")
            continue
        path.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
