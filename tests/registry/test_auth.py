"""Authentication against real registries: bearer tokens from our token server and
htpasswd Basic auth, anonymous, with credentials, with wrong ones — and the credentials
never show up in errors, archives or logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndx.stdlib.registry import AuthError, ClientOptions, copy_image, pull_image

from .conftest import PASSWORD, USER, write_auth_file
from .servers import Registry, TokenServer

INSECURE = ClientOptions(insecure=True)
WRONG = "wrong-password-42"


def _seed(registry: Registry, busybox_layout: Path, repo: str, auth_file: Path) -> str:
    ref = f"{registry.host}/{repo}:v1"
    copy_image(f"oci-layout:{busybox_layout}:latest", f"docker://{ref}",
               options=ClientOptions(insecure=True, auth_file=str(auth_file)))
    return ref


def _no_secrets(*texts: str) -> None:
    for text in texts:
        assert PASSWORD not in text and WRONG not in text


@pytest.mark.parametrize("kind", ["token", "htpasswd"])
def test_credentialed_push_and_pull(kind: str, request: pytest.FixtureRequest,
                                    busybox_layout: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    registry: Registry = request.getfixturevalue(f"{kind}_registry")
    auth = write_auth_file(tmp_path / "auth.json", registry.host, USER, PASSWORD)
    ref = _seed(registry, busybox_layout, f"private/{kind}", auth)
    # Credentials from REGISTRY_AUTH_FILE, as a build would read them.
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    result = pull_image(ref, None, tmp_path / "out.tar", options=INSECURE)
    assert result.path.exists()
    _no_secrets(result.path.read_bytes().decode("latin-1"))


@pytest.mark.parametrize("kind", ["token", "htpasswd"])
def test_missing_and_wrong_credentials_are_clear_errors(
        kind: str, request: pytest.FixtureRequest, busybox_layout: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    registry: Registry = request.getfixturevalue(f"{kind}_registry")
    good = write_auth_file(tmp_path / "good.json", registry.host, USER, PASSWORD)
    ref = _seed(registry, busybox_layout, f"private/{kind}-errors", good)
    with pytest.raises(AuthError) as anonymous:
        pull_image(ref, None, tmp_path / "anon.tar", options=INSECURE)
    assert "requires authentication" in str(anonymous.value)
    assert "no credentials" in str(anonymous.value)
    bad = write_auth_file(tmp_path / "bad.json", registry.host, USER, WRONG)
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(bad))
    with pytest.raises(AuthError) as wrong:
        pull_image(ref, None, tmp_path / "wrong.tar", options=INSECURE)
    message = wrong.value.render()
    assert f"denied for user '{USER}'" in message and str(bad) in message
    _no_secrets(message, anonymous.value.render())
    assert not (tmp_path / "anon.tar").exists() and not (tmp_path / "wrong.tar").exists()


def test_anonymous_token_pull_of_a_public_repository(token_registry: Registry,
                                                     busybox_layout: Path,
                                                     tmp_path: Path) -> None:
    auth = write_auth_file(tmp_path / "auth.json", token_registry.host, USER, PASSWORD)
    ref = _seed(token_registry, busybox_layout, "public/busybox", auth)
    assert pull_image(ref, None, tmp_path / "out.tar", options=INSECURE).path.exists()


def test_tokens_are_scoped_and_secrets_stay_out_of_requests(
        token_registry: Registry, token_server: TokenServer, busybox_layout: Path,
        tmp_path: Path) -> None:
    token_server.requests.clear()
    auth = write_auth_file(tmp_path / "auth.json", token_registry.host, USER, PASSWORD)
    _seed(token_registry, busybox_layout, "private/scoped", auth)
    scopes = [r["path"] for r in token_server.requests]
    assert any("scope=repository%3Aprivate%2Fscoped%3Apull%2Cpush" in p for p in scopes)
    for r in token_server.requests:
        assert PASSWORD not in str(r["path"])  # only ever in the Authorization header
    _no_secrets((token_registry.directory / "registry.log").read_text())
