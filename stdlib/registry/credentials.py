"""Registry credentials, read where Docker, Podman and skopeo keep them.

Looked up, first match wins: an explicit auth file, `$REGISTRY_AUTH_FILE`,
`$XDG_RUNTIME_DIR/containers/auth.json`, then `$DOCKER_CONFIG/config.json` (default
`~/.docker/config.json`). In each file, `credHelpers[host]` or `credsStore` name a
`docker-credential-<helper>` program; otherwise `auths` entries hold `auth`
(base64 `user:password`), `username`/`password`, or an `identitytoken`.

Secrets never leave this module in printable form: `Credentials` hides them in its repr,
and every secret read is registered with `redact`, which error paths run their text
through before showing it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AuthError
from .reference import DOCKER_HUB, normalize_registry

_SECRETS: set[str] = set()


def redact(text: str) -> str:
    """`text` with every secret this process has seen replaced by `***`."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def remember_secret(secret: str) -> None:
    """Register `secret` (a password, token, or an encoding of one) for `redact`."""
    if len(secret) >= 4:
        _SECRETS.add(secret)


@dataclass(frozen=True)
class Credentials:
    """A user name with a password, or an identity (refresh) token; `source` says where
    they came from, for error messages."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    source: str = ""

    def __post_init__(self) -> None:
        for secret in (self.password, self.identity_token):
            remember_secret(secret)
        if self.password:
            remember_secret(self.basic_value())

    def basic_value(self) -> str:
        """The base64 `user:password` of an HTTP Basic `Authorization` header."""
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


def auth_files(explicit: str | None = None) -> list[Path]:
    """The auth files to consult, in order (existing or not)."""
    files = []
    if explicit:
        files.append(Path(explicit))
    if env := os.environ.get("REGISTRY_AUTH_FILE"):
        files.append(Path(env))
    if runtime := os.environ.get("XDG_RUNTIME_DIR"):
        files.append(Path(runtime, "containers", "auth.json"))
    docker_dir = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    files.append(Path(docker_dir, "config.json"))
    return files


def _keys_for(host: str, repository: str | None) -> Iterator[str]:
    """Spellings an `auths` key may use for this host, most specific first."""
    if repository:
        parts = repository.split("/")
        for n in range(len(parts), 0, -1):
            yield f"{host}/{'/'.join(parts[:n])}"
    yield host


def _match_auths(auths: dict[str, object], host: str,
                 repository: str | None) -> dict[str, object] | None:
    normalized: dict[str, dict[str, object]] = {}
    for key, entry in auths.items():
        if not isinstance(entry, dict):
            continue
        bare = key.strip().lower().removeprefix("https://").removeprefix("http://")
        bare = bare.rstrip("/").removesuffix("/v1").removesuffix("/v2")
        first, _, rest = bare.partition("/")
        canon = normalize_registry(first) + (f"/{rest}" if rest else "")
        normalized.setdefault(canon, entry)
    for key in _keys_for(host, repository):
        if key in normalized:
            return normalized[key]
    return None


def _decode_entry(entry: dict[str, object], source: str) -> Credentials | None:
    token = str(entry.get("identitytoken") or "")
    if auth := entry.get("auth"):
        try:
            user, sep, password = base64.b64decode(str(auth)).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthError(f"malformed 'auth' entry in {source}") from None
        if not sep:
            raise AuthError(f"malformed 'auth' entry in {source}",
                            hint="expected base64 of user:password")
        return Credentials(user, password, token, source)
    if entry.get("username") or entry.get("password") or token:
        return Credentials(str(entry.get("username") or ""), str(entry.get("password") or ""),
                           token, source)
    return None


def _helper_lookup(helper: str, host: str, source: str) -> Credentials | None:
    program = f"docker-credential-{helper}"
    server = "https://index.docker.io/v1/" if host == DOCKER_HUB else host
    try:
        done = subprocess.run([program, "get"], input=server.encode(), capture_output=True,
                              timeout=60, check=False)
    except FileNotFoundError:
        raise AuthError(f"credential helper {program} (named in {source}) is not "
                        "installed") from None
    except subprocess.TimeoutExpired:
        raise AuthError(f"credential helper {program} did not answer within 60 s") from None
    if done.returncode != 0:
        if b"credentials not found" in done.stdout.lower() + done.stderr.lower():
            return None
        raise AuthError(f"credential helper {program} failed for {host} "
                        f"(exit status {done.returncode})")
    try:
        answer = json.loads(done.stdout)
        user, secret = str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError):
        raise AuthError(f"credential helper {program} gave an unreadable answer") from None
    if user == "<token>":
        return Credentials("", "", secret, f"{program} ({source})")
    return Credentials(user, secret, "", f"{program} ({source})")


def lookup_credentials(registry: str, repository: str | None = None, *,
                       auth_file: str | None = None) -> Credentials | None:
    """The credentials for `registry` (a host as in a reference: `docker.io`,
    `127.0.0.1:5000`) and optionally a repository, or None if no file has any."""
    host = normalize_registry(registry)
    for path in auth_files(auth_file):
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            raise AuthError(f"cannot read auth file {path}: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise AuthError(f"auth file {path} is not a JSON object")
        helpers = data.get("credHelpers") or {}
        if isinstance(helpers, dict):
            for key, helper in helpers.items():
                if normalize_registry(key) == host:
                    found = _helper_lookup(str(helper), host, str(path))
                    if found:
                        return found
        auths = data.get("auths") or {}
        entry = _match_auths(auths, host, repository) if isinstance(auths, dict) else None
        if entry is not None:
            creds = _decode_entry(entry, str(path))
            if creds:
                return creds
        if store := data.get("credsStore"):
            found = _helper_lookup(str(store), host, str(path))
            if found:
                return found
    return None
