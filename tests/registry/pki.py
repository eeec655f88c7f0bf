"""Test certificates and JWTs: a throw-away CA with a server certificate for 127.0.0.1
(the TLS registry), and an RSA key with a self-signed certificate that signs the token
server's JWTs (the token registry trusts it through `rootcertbundle`)."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(key: rsa.RSAPrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(
        now + datetime.timedelta(days=30))


@dataclass(frozen=True)
class ServerTLS:
    ca_cert: Path
    cert: Path
    key: Path


def make_server_tls(directory: Path) -> ServerTLS:
    """A CA and a certificate for 127.0.0.1/localhost signed by it."""
    ca_key, key = _key(), _key()
    ca = _validity(x509.CertificateBuilder().subject_name(_name("ndx test CA"))
                   .issuer_name(_name("ndx test CA")).public_key(ca_key.public_key())
                   .serial_number(x509.random_serial_number())
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                  critical=True)
                   .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                                False, False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                       ca_key.public_key()), critical=False)
                   ).sign(ca_key, hashes.SHA256())
    cert = _validity(x509.CertificateBuilder().subject_name(_name("127.0.0.1"))
                     .issuer_name(ca.subject).public_key(key.public_key())
                     .serial_number(x509.random_serial_number())
                     .add_extension(x509.SubjectAlternativeName(
                         [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                          x509.DNSName("localhost")]), critical=False)
                     .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                    critical=True)
                     .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                         ca_key.public_key()), critical=False)
                     .add_extension(x509.ExtendedKeyUsage(
                         [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                     ).sign(ca_key, hashes.SHA256())
    directory.mkdir(parents=True, exist_ok=True)
    tls = ServerTLS(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    tls.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, tls.key)
    return tls


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenSigner:
    """Signs registry bearer tokens (RS256 JWTs with the certificate in `x5c`)."""

    def __init__(self, directory: Path, issuer: str) -> None:
        self.key = _key()
        self.issuer = issuer
        self.cert = _validity(x509.CertificateBuilder().subject_name(_name("ndx token signer"))
                              .issuer_name(_name("ndx token signer"))
                              .public_key(self.key.public_key())
                              .serial_number(x509.random_serial_number())
                              ).sign(self.key, hashes.SHA256())
        directory.mkdir(parents=True, exist_ok=True)
        self.bundle = directory / "token-signer.pem"
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def token(self, subject: str, audience: str, access: list[dict[str, object]]) -> str:
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(der).decode()]}
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": subject, "aud": audience, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}." \
                        f"{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"
