"""The shipped deployment files: parsed and checked for the settings that matter."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

import pytest

import lumen.config
from lumen.config import config_from_mapping

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
UNITS = {
    "lumen-source.service": "serve source",
    "lumen-caseworker.service": "serve caseworker",
    "lumen-worker.service": "worker",
}
SANDBOX = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallFilter": "@system-service",
    "CapabilityBoundingSet": "",
    "LimitCORE": "0",
    "ReadWritePaths": "/var/lib/lumen",
    "UMask": "0077",
}
LOOPBACK = ("127.0.0.1", "::1", "[::1]")


def read_unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return parser


def directives(path: Path) -> list[tuple[str, str]]:
    """Return ``(keyword, value)`` for each non-comment line of a torrc or redis.conf."""
    result = []
    for line in path.read_text("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, value = line.partition(" ")
        result.append((keyword, value.strip()))
    return result


def onion_services(torrc: Path) -> dict[str, list[tuple[str, str]]]:
    """Group the torrc's HiddenService* lines by the HiddenServiceDir they follow."""
    services: dict[str, list[tuple[str, str]]] = {}
    current = None
    for keyword, value in directives(torrc):
        if keyword == "HiddenServiceDir":
            current = value.rstrip("/")
            services[current] = []
        elif keyword.startswith("HiddenService"):
            assert current is not None, f"{keyword} before any HiddenServiceDir"
            services[current].append((keyword, value))
    return services


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_is_sandboxed(name: str) -> None:
    service = read_unit(name)["Service"]

    for option, expected in SANDBOX.items():
        assert option in service, f"{name} lacks {option}"
        assert service[option] == expected, f"{name}: {option}={service[option]!r}"


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_runs_lumen_unprivileged(name: str) -> None:
    service = read_unit(name)["Service"]

    assert service["User"] == "lumen"
    assert service["ExecStart"].endswith(f"lumen {UNITS[name]} --config /etc/lumen/lumen.toml")
    assert service["EnvironmentFile"] == "/etc/lumen/lumen.env"
    assert "LUMEN_" not in service.get("Environment", "")


def test_caseworker_unit_requires_client_auth() -> None:
    service = read_unit("lumen-caseworker.service")["Service"]
    [caseworker_dir] = [d for d in onion_services(DEPLOY / "tor" / "torrc") if "caseworker" in d]

    check = service["ExecStartPre"]
    assert check.startswith("+/bin/sh -c ")
    assert f"{caseworker_dir}/authorized_clients/*.auth" in check
    assert "exit 1" in check
    # systemd expands $name itself; the shell variable must be written $$name.
    assert re.search(r"(?<!\$)\$file", check) is None


def test_torrc_services_on_loopback() -> None:
    services = onion_services(DEPLOY / "tor" / "torrc")
    targets = {
        directory: [value.split()[1] for keyword, value in lines if keyword == "HiddenServicePort"]
        for directory, lines in services.items()
    }

    assert targets == {
        "/var/lib/tor/lumen-source": ["127.0.0.1:8080"],
        "/var/lib/tor/lumen-caseworker": ["127.0.0.1:8081"],
    }


def test_torrc_pow_defence_on_source() -> None:
    services = onion_services(DEPLOY / "tor" / "torrc")

    assert ("HiddenServicePoWDefensesEnabled", "1") in services["/var/lib/tor/lumen-source"]


def test_torrc_offers_no_socks_port() -> None:
    assert ("SocksPort", "0") in directives(DEPLOY / "tor" / "torrc")


def test_torrc_explains_authorized_clients() -> None:
    text = (DEPLOY / "tor" / "torrc").read_text("utf-8")

    assert "/var/lib/tor/lumen-caseworker/authorized_clients/" in text
    assert "descriptor:x25519:" in text


def test_redis_bound_to_loopback_with_password() -> None:
    settings = dict(directives(DEPLOY / "redis" / "redis.conf"))

    addresses = settings["bind"].split()
    assert addresses
    for address in addresses:
        assert address.lstrip("-") in LOOPBACK, address
    assert settings["protected-mode"] == "yes"
    assert len(settings["requirepass"]) > 16


def test_redis_keeps_nothing_on_disk() -> None:
    settings = dict(directives(DEPLOY / "redis" / "redis.conf"))

    assert settings["save"] == '""'
    assert settings["appendonly"] == "no"
    assert settings["maxmemory-policy"] == "noeviction"


def example_environment() -> dict[str, str]:
    return {
        "LUMEN_CODENAME_SALT": "00" * 16,
        "LUMEN_SOURCE_SECRET_KEY": "11" * 32,
        "LUMEN_CASEWORKER_SECRET_KEY": "22" * 32,
    }


def test_example_config_loads() -> None:
    raw = tomllib.loads((DEPLOY / "lumen.example.toml").read_text("utf-8"))

    config = config_from_mapping(raw, example_environment(), base=DEPLOY)

    assert [centre.id for centre in config.centres] == ["payoke", "pagasa", "surya"]
    assert config.data_dir == Path("/var/lib/lumen")
    assert config.redis_url is None
    assert config.source_bind.rpartition(":")[0] in LOOPBACK
    assert config.caseworker_bind.rpartition(":")[0] in LOOPBACK
    assert config.limits.max_file_bytes == 100 * 1024 * 1024


def test_example_config_matches_defaults() -> None:
    raw = tomllib.loads((DEPLOY / "lumen.example.toml").read_text("utf-8"))
    minimal = {"data_dir": raw["data_dir"], "centres": raw["centres"]}

    example = config_from_mapping(raw, example_environment(), base=DEPLOY)
    default = config_from_mapping(minimal, example_environment(), base=DEPLOY)

    assert example.limits == default.limits
    assert example.source_kdf == default.source_kdf
    assert example.passphrase_kdf == default.passphrase_kdf
    assert example.smtp == default.smtp
    assert example.source_languages == default.source_languages
    assert example.retention_days == default.retention_days
    assert example.waitress_threads == default.waitress_threads
    assert example.database_url == default.database_url


def test_example_config_uses_only_read_keys() -> None:
    source = Path(lumen.config.__file__).read_text("utf-8")
    read_keys = set(re.findall(r"""(?:\.get|entry)\(?\[?\(?f?["']([a-z_{}]+)["']""", source))
    read_keys |= {
        f"{prefix}_{name}"
        for prefix in ("source", "passphrase")
        for name in ("memlimit_mib", "opslimit")
    }
    read_keys |= {field for field in lumen.config.Limits.__dataclass_fields__}
    read_keys |= {field for field in lumen.config.SmtpConfig.__dataclass_fields__}
    raw = tomllib.loads((DEPLOY / "lumen.example.toml").read_text("utf-8"))

    def keys(mapping: object) -> set[str]:
        found: set[str] = set()
        if isinstance(mapping, dict):
            for key, value in mapping.items():
                found.add(key)
                found |= keys(value)
        elif isinstance(mapping, list):
            for item in mapping:
                found |= keys(item)
        return found

    assert keys(raw) - read_keys == set()
