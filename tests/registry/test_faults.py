"""Transient and hostile network behaviour, injected by a proxy in front of the real
registry: 429/500 are retried with backoff (Retry-After honoured) and then reported;
dropped downloads resume with Range; corrupt or short blobs are refused and nothing is
stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from ndx.stdlib.registry import (
    ClientOptions,
    DigestMismatchError,
    RegistryClient,
    TransportError,
    pull_image,
)

from .images import skopeo_copy
from .servers import Fault, FaultProxy, Registry


@pytest.fixture(scope="module")
def image(registry: Registry, busybox_layout: Path) -> str:
    skopeo_copy(f"oci:{busybox_layout}:latest",
                f"docker://{registry.host}/faults/busybox:v1", "--dest-tls-verify=false")
    return "faults/busybox:v1"


def _options(sleeps: list[float], retries: int = 3) -> ClientOptions:
    return ClientOptions(insecure=True, retries=retries, backoff=0.25, sleep=sleeps.append)


def _layer_path(faults: FaultProxy, image: str, tmp_path: Path) -> str:
    """The URL path of the image's (only) layer blob."""
    repo, tag = image.split(":")
    manifest = RegistryClient(faults.host, ClientOptions(insecure=True)).get_manifest(repo, tag)
    faults.clear()
    return f"/v2/{repo}/blobs/{manifest.json()['layers'][0]['digest']}"


def test_429_with_retry_after_is_retried(faults: FaultProxy, image: str,
                                         tmp_path: Path) -> None:
    fault = faults.add(Fault(r"/manifests/", "status", status=429, retry_after="7", times=2))
    sleeps: list[float] = []
    result = pull_image(f"{faults.host}/{image}", None, tmp_path / "out.tar",
                        options=_options(sleeps))
    assert result.path.exists() and fault.hits == 2
    assert sleeps[:2] == [7.0, 7.0]


def test_500_is_retried_with_exponential_backoff(faults: FaultProxy, image: str,
                                                 tmp_path: Path) -> None:
    layer = _layer_path(faults, image, tmp_path)
    fault = faults.add(Fault(layer, "status", status=500, times=2))
    sleeps: list[float] = []
    assert pull_image(f"{faults.host}/{image}", None, tmp_path / "out.tar",
                      options=_options(sleeps)).path.exists()
    assert fault.hits == 2 and sleeps == [0.25, 0.5]


def test_persistent_errors_end_in_a_clear_message(faults: FaultProxy, image: str,
                                                  tmp_path: Path) -> None:
    faults.add(Fault(r"/manifests/", "status", status=503))
    sleeps: list[float] = []
    with pytest.raises(TransportError) as err:
        pull_image(f"{faults.host}/{image}", None, tmp_path / "out.tar",
                   options=_options(sleeps))
    message = str(err.value)
    assert "answered HTTP 503" in message and "gave up after 4 attempts" in message
    assert "injected fault" in message  # the registry's own error text is shown
    assert len(sleeps) == 3 and not (tmp_path / "out.tar").exists()


def test_dropped_download_resumes_with_range(faults: FaultProxy, image: str,
                                             tmp_path: Path) -> None:
    layer = _layer_path(faults, image, tmp_path)
    faults.add(Fault(layer, "truncate", after=300_000, times=2))
    sleeps: list[float] = []
    result = pull_image(f"{faults.host}/{image}", None, tmp_path / "out.tar",
                        options=_options(sleeps))
    assert result.path.exists()
    ranged = [p for m, p, s in faults.log if p.startswith(layer) and s == 206]
    assert ranged, faults.log  # the registry answered a Range request


def test_connection_that_keeps_dropping_gives_up(faults: FaultProxy, image: str,
                                                 tmp_path: Path) -> None:
    layer = _layer_path(faults, image, tmp_path)
    faults.add(Fault(layer, "truncate", after=0))
    with pytest.raises(TransportError, match="connection kept dropping"):
        pull_image(f"{faults.host}/{image}", None, tmp_path / "out.tar",
                   options=_options([]))
    assert not (tmp_path / "out.tar").exists()


@pytest.mark.parametrize("action", ["corrupt", "short"])
def test_corrupt_or_short_blob_is_rejected_and_nothing_stored(
        faults: FaultProxy, image: str, tmp_path: Path, action: str) -> None:
    layer = _layer_path(faults, image, tmp_path)
    faults.add(Fault(layer, action, after=1000))
    cache = tmp_path / "cache"
    with pytest.raises(DigestMismatchError) as err:
        pull_image(f"{faults.host}/{image}", None, tmp_path / "out" / "image.tar",
                   options=_options([]), cache=cache)
    assert "corrupt or truncated" in str(err.value)
    assert list((tmp_path / "out").iterdir()) == []
    assert [p for p in cache.rglob("*") if p.is_file()] == []
