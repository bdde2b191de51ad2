"""Typed, frozen configuration read from one TOML file and the environment.

Secrets never live in the file: the codename salt and the two apps' session keys
come from the environment (``LUMEN_CODENAME_SALT``, ``LUMEN_SOURCE_SECRET_KEY``,
``LUMEN_CASEWORKER_SECRET_KEY``, each as hex) or, for a local instance, from files
under ``<data_dir>/secrets`` that ``lumen init`` creates. Start-up fails with a
message naming the missing value when one is absent.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from crypto.derivation import PRODUCTION_MIN_MEMLIMIT, SALT_SIZE, KdfParams

SOURCE_LANGUAGES: Final = ("nl", "fr", "en", "de")
CASEWORKER_LANGUAGES: Final = ("nl", "fr", "en")
SECRET_NAMES: Final = ("codename_salt", "source_secret_key", "caseworker_secret_key")
# The secrets each kind of process needs: the source app derives codenames and signs
# its sessions, the caseworker app signs its own, and the worker needs none.
ROLE_SECRETS: Final = {
    "all": SECRET_NAMES,
    "source": ("codename_salt", "source_secret_key"),
    "caseworker": ("caseworker_secret_key",),
    "worker": (),
}
_SECRET_SIZES: Final = {
    "codename_salt": SALT_SIZE,
    "source_secret_key": 32,
    "caseworker_secret_key": 32,
}
MIB: Final = 1024 * 1024


class ConfigError(Exception):
    """The configuration is missing a value or contains an invalid one."""


@dataclass(frozen=True)
class CentreConfig:
    """A help centre that receives reports, with its public contact details."""

    id: str
    name: str
    city: str
    languages: tuple[str, ...]
    phone: str = ""
    email: str = ""
    website: str = ""
    address: str = ""
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    """Upload limits, stated on the report form and enforced while streaming."""

    max_request_bytes: int = 110 * MIB
    max_file_bytes: int = 100 * MIB
    max_files: int = 10
    max_message_chars: int = 50_000


@dataclass(frozen=True)
class SmtpConfig:
    """The SMTP server for notification e-mails; an empty ``host`` disables them."""

    host: str = ""
    port: int = 25
    sender: str = "lumen@localhost"
    starttls: bool = False
    username: str = ""
    password: str = ""


@dataclass(frozen=True, repr=False)
class Secrets:
    """The instance's secrets; never logged, never put in a repr."""

    codename_salt: bytes
    source_secret_key: bytes
    caseworker_secret_key: bytes

    def __repr__(self) -> str:
        return "Secrets(<redacted>)"


@dataclass(frozen=True)
class Config:
    """Everything both apps and the worker need to run."""

    data_dir: Path
    database_url: str
    redis_url: str | None
    secrets: Secrets
    centres: tuple[CentreConfig, ...]
    source_kdf: KdfParams = field(default_factory=lambda: KdfParams(opslimit=3, memlimit=64 * MIB))
    passphrase_kdf: KdfParams = field(
        default_factory=lambda: KdfParams(opslimit=3, memlimit=64 * MIB)
    )
    derivation_concurrency: int = field(default_factory=lambda: default_derivation_concurrency())
    derivation_wait_seconds: float = 1.0
    source_languages: tuple[str, ...] = SOURCE_LANGUAGES
    caseworker_languages: tuple[str, ...] = CASEWORKER_LANGUAGES
    default_language: str = "en"
    quick_exit_url: str = "https://www.wikipedia.org/"
    onion_address: str = ""
    source_session_minutes: int = 60
    caseworker_session_minutes: int = 30
    retention_days: int = 365
    unsubmitted_retention_days: int = 1
    limits: Limits = field(default_factory=Limits)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    source_bind: str = "127.0.0.1:8080"
    caseworker_bind: str = "127.0.0.1:8081"
    login_max_failures: int = 5
    login_global_per_minute: int = 60
    waitress_threads: int = 8

    @property
    def blob_dir(self) -> Path:
        """Folder of the encrypted blobs."""
        return self.data_dir / "blobs"

    def centre(self, centre_id: str) -> CentreConfig:
        """Return the configured centre ``centre_id`` or raise KeyError."""
        for centre in self.centres:
            if centre.id == centre_id:
                return centre
        raise KeyError(centre_id)


def default_derivation_concurrency() -> int:
    """Return half the CPU cores, at least one, so codename derivations leave a core free.

    Each derivation keeps one core busy for its whole run; with every core deriving,
    a flood of logins would also stall every other page.
    """
    return max(1, (os.cpu_count() or 2) // 2)


def load_config(
    path: Path | None = None, environ: Mapping[str, str] | None = None, role: str = "all"
) -> Config:
    """Read the TOML file at ``path`` (or ``$LUMEN_CONFIG``) and the environment.

    ``role`` (``source``, ``caseworker``, ``worker`` or ``all``) names the secrets that
    must be present; see :func:`load_secrets`.
    """
    environ = os.environ if environ is None else environ
    if path is None and environ.get("LUMEN_CONFIG"):
        path = Path(environ["LUMEN_CONFIG"])
    if path is None:
        raise ConfigError("no configuration: pass --config FILE or set LUMEN_CONFIG")

    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {str(path)!r} not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"configuration file {str(path)!r} is not valid TOML: {error}") from None

    return config_from_mapping(raw, environ, base=path.parent, role=role)


def config_from_mapping(
    raw: Mapping[str, Any], environ: Mapping[str, str], base: Path = Path("."), role: str = "all"
) -> Config:
    """Build a :class:`Config` from parsed TOML and check every value."""
    data_dir = (base / str(raw.get("data_dir", "lumen-data"))).resolve()
    database_url = environ.get("LUMEN_DATABASE_URL") or str(
        raw.get("database_url", f"sqlite:///{data_dir / 'lumen.sqlite'}")
    )
    redis_url = environ.get("LUMEN_REDIS_URL") or raw.get("redis_url") or None

    centres = tuple(_centre(entry) for entry in raw.get("centres", []))
    if not centres:
        raise ConfigError("the configuration lists no [[centres]]")
    if len({c.id for c in centres}) != len(centres):
        raise ConfigError("two [[centres]] share an id")

    kdf = raw.get("kdf", {})
    source_kdf = _kdf(kdf, "source")
    passphrase_kdf = _kdf(kdf, "passphrase")

    source = raw.get("source", {})
    caseworker = raw.get("caseworker", {})
    source_languages = tuple(source.get("languages", SOURCE_LANGUAGES))
    _check_languages(source_languages, SOURCE_LANGUAGES, "source.languages")
    caseworker_languages = tuple(caseworker.get("languages", CASEWORKER_LANGUAGES))
    _check_languages(caseworker_languages, CASEWORKER_LANGUAGES, "caseworker.languages")
    quick_exit_url = str(source.get("quick_exit_url", "https://www.wikipedia.org/"))
    if not quick_exit_url.startswith("https://"):
        raise ConfigError(f"source.quick_exit_url {quick_exit_url!r} must be an https:// address")
    default_language = str(source.get("default_language", "en"))
    if default_language not in source_languages:
        raise ConfigError(f"source.default_language {default_language!r} is not enabled")

    return Config(
        data_dir=data_dir,
        database_url=str(database_url),
        redis_url=str(redis_url) if redis_url else None,
        secrets=load_secrets(data_dir, environ, role),
        centres=centres,
        source_kdf=source_kdf,
        passphrase_kdf=passphrase_kdf,
        derivation_concurrency=int(
            kdf.get("derivation_concurrency", default_derivation_concurrency())
        ),
        derivation_wait_seconds=float(kdf.get("derivation_wait_seconds", 1.0)),
        login_max_failures=int(caseworker.get("login_max_failures", 5)),
        login_global_per_minute=int(caseworker.get("login_global_per_minute", 60)),
        source_languages=source_languages,
        caseworker_languages=caseworker_languages,
        default_language=default_language,
        quick_exit_url=quick_exit_url,
        onion_address=str(source.get("onion_address", "")),
        source_session_minutes=int(source.get("session_minutes", 60)),
        caseworker_session_minutes=int(caseworker.get("session_minutes", 30)),
        retention_days=int(raw.get("retention_days", 365)),
        unsubmitted_retention_days=int(raw.get("unsubmitted_retention_days", 1)),
        limits=Limits(**raw.get("limits", {})),
        smtp=SmtpConfig(
            **{**raw.get("smtp", {}), "password": environ.get("LUMEN_SMTP_PASSWORD", "")}
        ),
        source_bind=str(source.get("bind", "127.0.0.1:8080")),
        caseworker_bind=str(caseworker.get("bind", "127.0.0.1:8081")),
        waitress_threads=int(raw.get("waitress_threads", 8)),
    )


def _centre(entry: Mapping[str, Any]) -> CentreConfig:
    try:
        return CentreConfig(
            id=str(entry["id"]),
            name=str(entry["name"]),
            city=str(entry["city"]),
            languages=tuple(entry.get("languages", ())),
            phone=str(entry.get("phone", "")),
            email=str(entry.get("email", "")),
            website=str(entry.get("website", "")),
            address=str(entry.get("address", "")),
            notify=tuple(entry.get("notify", ())),
        )
    except KeyError as error:
        raise ConfigError(f"a [[centres]] entry is missing {error.args[0]!r}") from None


def _kdf(section: Mapping[str, Any], prefix: str) -> KdfParams:
    memlimit = int(section.get(f"{prefix}_memlimit_mib", 64)) * MIB
    if memlimit < PRODUCTION_MIN_MEMLIMIT:
        raise ConfigError(
            f"kdf.{prefix}_memlimit_mib is {memlimit // MIB}; use at least"
            f" {PRODUCTION_MIN_MEMLIMIT // MIB}"
        )
    return KdfParams(opslimit=int(section.get(f"{prefix}_opslimit", 3)), memlimit=memlimit)


def _check_languages(chosen: tuple[str, ...], shipped: tuple[str, ...], name: str) -> None:
    unknown = [language for language in chosen if language not in shipped]
    if unknown or not chosen:
        raise ConfigError(
            f"{name} must be a non-empty subset of {list(shipped)}, got {list(chosen)}"
        )


def load_secrets(data_dir: Path, environ: Mapping[str, str], role: str = "all") -> Secrets:
    """Read the secrets ``role`` needs from ``LUMEN_<NAME>`` or ``<data_dir>/secrets/<name>``.

    A process gets only what its role needs, so the source server never holds the key
    that signs caseworker sessions. A secret the role does not need is read when it is
    there and left empty otherwise.
    """
    if role not in ROLE_SECRETS:
        raise ConfigError(f"unknown role {role!r}; expected one of {sorted(ROLE_SECRETS)}")

    values: dict[str, bytes] = {}
    for name in SECRET_NAMES:
        env_name = f"LUMEN_{name.upper()}"
        file = data_dir / "secrets" / name
        if environ.get(env_name):
            text = environ[env_name]
        elif file.is_file():
            text = file.read_text("ascii")
        elif name in ROLE_SECRETS[role]:
            raise ConfigError(
                f"secret {name!r} is missing: set {env_name} (hex) or run 'lumen init'"
            )
        else:
            values[name] = b""
            continue
        try:
            value = bytes.fromhex(text.strip())
        except ValueError:
            raise ConfigError(f"secret {name!r} is not hex") from None
        if len(value) != _SECRET_SIZES[name]:
            raise ConfigError(f"secret {name!r} must be {_SECRET_SIZES[name]} bytes")
        values[name] = value

    return Secrets(**values)


def write_new_secrets(data_dir: Path) -> None:
    """Create any missing secret file under ``<data_dir>/secrets``, readable by the owner only."""
    folder = data_dir / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name in SECRET_NAMES:
        file = folder / name
        if file.exists():
            continue
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(os.urandom(_SECRET_SIZES[name]).hex())
