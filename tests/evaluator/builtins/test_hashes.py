"""The hash encodings, against values printed by Nix 2.8's own tools (`nix-hash
--to-base32`, `nix hash to-sri`)."""

from __future__ import annotations

import hashlib

import pytest

from ndx.evaluator.hashes import (
    HashError,
    compress_hash,
    decode_base32,
    decode_base64,
    encode_base32,
    format_hash,
    hash_bytes,
    parse_hash,
    parse_prefixed_hash,
    parse_sri,
)

ABC_SHA256 = bytes.fromhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

# Printed by `nix-hash --type ALGO --to-base32 $(printf abc | ALGOsum)`.
NIX_BASE32_OF_ABC = {
    "md5": "3jgzhjhz9zjvbb0kyj7jc500ch",
    "sha1": "kpcd173cq987hw957sx6m0868wv3x6d9",
    "sha256": "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s",
    "sha512": "2gs8k559z4rlahfx0y688s49m2vvszylcikrfinm30ly9rak69236nkam5ydvly1ai7xac99"
              "vxfc4ii84hawjbk876blyk1jfhkbbyx",
}


@pytest.mark.parametrize("algo", sorted(NIX_BASE32_OF_ABC))
def test_base32_matches_nix(algo: str) -> None:
    digest = hash_bytes(algo, b"abc")
    assert encode_base32(digest) == NIX_BASE32_OF_ABC[algo]
    assert decode_base32(NIX_BASE32_OF_ABC[algo], len(digest)) == digest


def test_base32_puts_last_byte_first() -> None:
    # The top 5-bit group of a little-endian number lives in the last byte.
    assert encode_base32(bytes([0, 0, 0, 0, 0x80])) == "h0000000"
    assert encode_base32(bytes([1, 0, 0, 0, 0])) == "00000001"


def test_sri_and_base64_match_nix() -> None:
    assert format_hash("sha256", ABC_SHA256, "sri") == \
        "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    assert format_hash("sha256", ABC_SHA256, "base64") == \
        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    assert format_hash("sha256", ABC_SHA256, "base16", include_algo=True) == \
        "sha256:" + ABC_SHA256.hex()


@pytest.mark.parametrize("text", [
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
    "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s",
    "sha256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
    "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
    "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0",
])
def test_parse_every_notation(text: str) -> None:
    assert parse_hash(text) == ("sha256", ABC_SHA256)
    assert parse_prefixed_hash(text) == ("sha256", ABC_SHA256)


def test_parse_bare_digest_needs_algorithm() -> None:
    assert parse_hash("1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s", "sha256") == \
        ("sha256", ABC_SHA256)
    with pytest.raises(HashError, match="does not include a type"):
        parse_hash("1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s")
    with pytest.raises(HashError, match="does not include a type"):
        parse_prefixed_hash(ABC_SHA256.hex())


@pytest.mark.parametrize("text, message", [
    ("sha256:zb8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s", "invalid base-32"),
    ("sha256:eb8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s", "invalid base-32"),
    ("sha256:abc", "wrong length"),
    ("sha256:" + "g" * 64, "invalid base-16"),
    ("sha256-AAAA", "invalid SRI hash"),
    ("blake3:abc", "unknown hash algorithm 'blake3'"),
    ("sha1:" + ABC_SHA256.hex(), "wrong length"),
])
def test_parse_rejects_what_nix_rejects(text: str, message: str) -> None:
    with pytest.raises(HashError, match=message):
        parse_hash(text)


def test_parse_checks_agreement_with_expected_algorithm() -> None:
    with pytest.raises(HashError, match="should have type 'sha1'"):
        parse_hash("sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", "sha1")
    assert parse_sri("sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")[1] == ABC_SHA256


def test_base64_decoder_is_lenient_like_nix() -> None:
    assert decode_base64("YW\nJj") == b"abc"
    assert decode_base64("YWJj=garbage") == b"abc"
    with pytest.raises(HashError, match="invalid character"):
        decode_base64("YW*j")


def test_compress_hash_folds_with_xor() -> None:
    digest = bytes(range(32))
    folded = compress_hash(digest, 20)
    assert len(folded) == 20
    assert folded[0] == 0 ^ 20 and folded[11] == 11 ^ 31 and folded[12] == 12
    # A store path hash: 20 bytes print as 32 base-32 characters.
    assert len(encode_base32(compress_hash(hashlib.sha256(b"x").digest(), 20))) == 32


def test_round_trip_every_length() -> None:
    for size in range(1, 70):
        data = bytes((i * 37 + size) & 0xFF for i in range(size))
        assert decode_base32(encode_base32(data), size) == data
