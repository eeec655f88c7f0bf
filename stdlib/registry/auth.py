"""Registry authentication: answering `WWW-Authenticate` challenges.

A registry that wants credentials answers 401 with a challenge. `Bearer realm=…,
service=…, scope=…` sends us to a token service: we ask it for a token covering the
scopes we need (anonymously, with Basic credentials, or with an identity token) and
repeat the request with `Authorization: Bearer <token>`. `Basic realm=…` wants the
credentials themselves. Once a host has challenged us, later requests carry the
right header up front; tokens are cached per host and scope set.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .credentials import Credentials, remember_secret
from .errors import AuthError
from .transport import Transport

_PARAM_RE = re.compile(r'\s*([a-zA-Z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')
_LOOPBACK = ("127.", "localhost", "[::1]")


@dataclass(frozen=True)
class Challenge:
    scheme: str            # "bearer" or "basic", lower case
    params: dict[str, str]


def parse_challenge(header: str | None) -> Challenge | None:
    """Parse a `WWW-Authenticate` header (one challenge, as registries send)."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for m in _PARAM_RE.finditer(rest):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
    return Challenge(scheme.lower(), params)


def repository_scope(repository: str, actions: str) -> str:
    """The token scope for actions ("pull", "pull,push") on a repository."""
    return f"repository:{repository}:{actions}"


@dataclass
class _Token:
    value: str
    expires: float


class Authenticator:
    """Holds what each host asked for and the tokens obtained, and produces the
    `Authorization` header for a request. `lookup(host, repository)` returns the
    credentials for a host (from the auth files) or None."""

    def __init__(self, transport: Transport,
                 lookup: Callable[[str, str | None], Credentials | None]) -> None:
        self.transport = transport
        self.lookup = lookup
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, frozenset[str]], _Token] = {}
        self._creds: dict[tuple[str, str | None], Credentials | None] = {}

    def credentials(self, host: str, repository: str | None) -> Credentials | None:
        key = (host, repository)
        if key not in self._creds:
            self._creds[key] = self.lookup(host, repository)
        return self._creds[key]

    def header(self, host: str, scopes: Iterable[str], repository: str | None) -> dict[str, str]:
        """The `Authorization` header for a request, if this host has challenged us."""
        challenge = self._challenges.get(host)
        if challenge is None:
            return {}
        if challenge.scheme == "basic":
            creds = self.credentials(host, repository)
            return {"Authorization": f"Basic {creds.basic_value()}"} if creds else {}
        if challenge.scheme == "bearer":
            key = (host, frozenset(scopes))
            token = self._tokens.get(key)
            if token is None or token.expires < time.time():
                return {}
            return {"Authorization": f"Bearer {token.value}"}
        return {}

    def answer(self, host: str, header: str | None, scopes: Iterable[str],
               repository: str | None, what: str) -> bool:
        """Handle a 401: remember the challenge and obtain what it asks for. Returns
        whether the request is worth repeating (False when we have nothing new to
        offer; the caller then reports the 401)."""
        challenge = parse_challenge(header)
        if challenge is None or challenge.scheme not in ("bearer", "basic"):
            raise AuthError(f"{what}: {host} requires authentication of an unsupported kind "
                            f"({(header or 'no challenge').split(' ')[0]})")
        previous = self._challenges.get(host)
        self._challenges[host] = challenge
        if challenge.scheme == "basic":
            creds = self.credentials(host, repository)
            if creds is None or not creds.password:
                return False
            return previous is None or previous.scheme != "basic"
        asked = frozenset(scopes)
        wanted = set(asked)
        if extra := challenge.params.get("scope"):
            wanted.update(extra.split(" "))
        had = self._tokens.get((host, asked))
        token = self._fetch_token(host, challenge, sorted(wanted), repository, what)
        # Filed under the scopes the caller names, so its next request finds it.
        self._tokens[(host, asked)] = token
        return had is None or had.value != token.value

    def _fetch_token(self, host: str, challenge: Challenge, scopes: list[str],
                     repository: str | None, what: str) -> _Token:
        realm = challenge.params.get("realm")
        if not realm:
            raise AuthError(f"{what}: {host} sent a Bearer challenge without a realm")
        realm_parts = urllib.parse.urlsplit(realm)
        if realm_parts.scheme not in ("http", "https"):
            raise AuthError(f"{what}: {host} sent an unusable token realm")
        creds = self.credentials(host, repository)
        if (creds and realm_parts.scheme == "http"
                and realm_parts.netloc not in self.transport.options.insecure_hosts
                and not realm_parts.netloc.startswith(_LOOPBACK)):
            raise AuthError(f"{what}: {host} asks for credentials to be sent over plain HTTP "
                            f"to {realm_parts.netloc}; refusing",
                            hint=f"allow it with --insecure-registry {realm_parts.netloc}")
        query: list[tuple[str, str]] = []
        if service := challenge.params.get("service"):
            query.append(("service", service))
        headers = {"Accept": "application/json"}
        if creds and creds.identity_token:
            form = urllib.parse.urlencode(query + [
                ("grant_type", "refresh_token"), ("refresh_token", creds.identity_token),
                ("client_id", "ndx"), ("scope", " ".join(scopes))]).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            response = self.transport.request("POST", realm, headers=headers, body=form,
                                              what=f"token request to {realm_parts.netloc}")
        else:
            query += [("scope", s) for s in scopes]
            if creds and creds.password:
                headers["Authorization"] = f"Basic {creds.basic_value()}"
            sep = "&" if realm_parts.query else ("?" if query else "")
            url = realm + sep + urllib.parse.urlencode(query)
            response = self.transport.request("GET", url, headers=headers,
                                              what=f"token request to {realm_parts.netloc}")
        status = response.status
        body = response.body(1 << 20)
        if status in (401, 403):
            raise _refused(host, repository, creds, what)
        if status != 200:
            raise AuthError(f"{what}: the token service {realm_parts.netloc} of {host} "
                            f"answered HTTP {status}")
        try:
            data = json.loads(body)
            value = str(data.get("token") or data.get("access_token") or "")
            expires_in = float(data.get("expires_in") or 60)
        except (ValueError, AttributeError, TypeError):
            raise AuthError(f"{what}: the token service of {host} sent an unreadable "
                            "answer") from None
        if not value:
            raise AuthError(f"{what}: the token service of {host} sent no token")
        remember_secret(value)
        if creds and (refresh := data.get("refresh_token")):
            remember_secret(str(refresh))
        # Renew a little early, so a token never expires in flight.
        return _Token(value, time.time() + max(10.0, expires_in - 10.0))

    def refused(self, host: str, repository: str | None, what: str) -> AuthError:
        """The error for a request still refused after answering the challenge."""
        return _refused(host, repository, self.credentials(host, repository), what)


def _refused(host: str, repository: str | None, creds: Credentials | None,
             what: str) -> AuthError:
    target = f"{repository} on {host}" if repository else host
    if creds:
        who = f"user {creds.username!r}" if creds.username else "the identity token"
        return AuthError(f"{what}: access to {target} denied for {who} "
                         f"(credentials from {creds.source})",
                         hint="check the user name and password, and that this user may "
                              "access the repository")
    return AuthError(f"{what}: {target} requires authentication (or does not exist), and no "
                     f"credentials for {host} were found",
                     hint="log in with `docker login`/`podman login`, or add an `auths` entry "
                          "to ~/.docker/config.json or the file named by REGISTRY_AUTH_FILE")

