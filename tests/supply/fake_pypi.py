"""A stand-in for PyPI's JSON API on loopback, reached the way pip-audit reaches the real one.

pip-audit asks https://pypi.org/pypi/<name>/<version>/json and the address is not configurable, so the test
points HTTPS_PROXY at this server: it accepts the CONNECT, answers TLS with a certificate for pypi.org signed
by a throwaway authority (REQUESTS_CA_BUNDLE trusts it) and serves the answers the test gave it. Nothing
leaves the machine; pip-audit itself runs unmodified.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a pypi.org certificate it signed; returns (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("test advisory CA")).issuer_name(_name("test advisory CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(_name("pypi.org")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("pypi.org")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_CONNECT(self):  # noqa: N802 (http.server's naming)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        # From here on the same connection speaks TLS as pypi.org; the handler's loop reads the next request.
        tls = self.server.tls.wrap_socket(self.connection, server_side=True)
        self.connection, self.rfile, self.wfile = tls, tls.makefile("rb"), tls.makefile("wb")
        self.close_connection = False  # http.client sends CONNECT as HTTP/1.0, which would end the loop

    def do_GET(self):  # noqa: N802
        self.server.asked.append(self.path)
        status, body = self.server.answer(self.path)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class FakePyPI:
    """`vulnerabilities` maps "name==version" to PyPI's `vulnerabilities` list; other releases have none.
    With `missing=True` every release answers 404, as a mirror without the per-release JSON API does."""

    def __init__(self, folder: Path, vulnerabilities: dict[str, list[dict]] | None = None, missing: bool = False):
        self.ca, cert, key = _certificates(folder)
        self.vulnerabilities, self.missing = vulnerabilities or {}, missing
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.tls.load_cert_chain(cert, key)
        self.server.answer, self.server.asked = self._answer, []
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def asked(self) -> list[str]:
        return self.server.asked

    def _answer(self, path: str) -> tuple[int, dict]:
        parts = path.strip("/").split("/")  # pypi/<name>/<version>/json
        if self.missing or len(parts) != 4 or parts[0] != "pypi":
            return 404, {"message": "Not Found"}
        name, version = parts[1], parts[2]
        return 200, {"info": {"name": name, "version": version}, "urls": [],
                     "vulnerabilities": self.vulnerabilities.get(f"{name}=={version}", [])}

    def env(self, base: dict[str, str]) -> dict[str, str]:
        port = self.server.server_address[1]
        return {**base, "HTTPS_PROXY": f"http://127.0.0.1:{port}", "https_proxy": f"http://127.0.0.1:{port}",
                "NO_PROXY": "", "no_proxy": "", "REQUESTS_CA_BUNDLE": str(self.ca)}

    def __enter__(self) -> FakePyPI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
