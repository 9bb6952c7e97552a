"""The shipped nginx site (deploy/nginx/onevoice.conf) rendered for a run on this machine.

Only what differs between a production host and a local run is replaced, each by one rule that must match
(so an edit of the site file that a rule no longer recognizes fails loudly instead of proving an old copy):
the upstream's server lines, the listen lines, the certificate paths and the include's location.
Everything that decides behaviour (SSE, body limits, retries, forwarded headers, TLS) is used as shipped.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path


def _sub(pattern: str, replacement, text: str, expected: int | None = None, flags=re.M) -> str:
    new, count = re.subn(pattern, replacement, text, flags=flags)
    if count == 0 or (expected is not None and count != expected):
        raise ValueError(f"deploy/nginx/onevoice.conf changed: {pattern!r} matched {count} times")
    return new


def render_site(site: str, *, upstreams: list[int], https_port: int, http_port: int, cert: Path, key: Path,
                proxy_include: Path) -> str:
    """The site with local ports, the given web nodes on 127.0.0.1, a local certificate and the include."""
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=2 fail_timeout=5s;\n" for port in upstreams)
    site = _sub(r"(upstream onevoice \{\n(?:\s*#.*\n)*)(?:\s*server [^\n]+;\n)+", lambda m: m.group(1) + servers,
                site, expected=1)
    site = _sub(r"^\s*listen \[::\]:\d+[^;]*;\n", "", site, expected=2)
    site = _sub(r"^(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{http_port};", site, expected=1)
    site = _sub(r"^(\s*)listen 443 ssl http2;", rf"\g<1>listen 127.0.0.1:{https_port} ssl http2;", site, expected=1)
    site = _sub(r"^(\s*)ssl_certificate \S+;", rf"\g<1>ssl_certificate {cert};", site, expected=1)
    site = _sub(r"^(\s*)ssl_certificate_key \S+;", rf"\g<1>ssl_certificate_key {key};", site, expected=1)
    return _sub(r"^(\s*)include /etc/nginx/snippets/onevoice-proxy.conf;", rf"\g<1>include {proxy_include};",
                site, expected=1)


def render_main_conf(prefix: Path, site: Path, as_root: bool) -> str:
    """nginx.conf for a private instance: pid, logs and temporary files under `prefix`. Run as root (CI
    here), the workers stay root too: they read the temporary directory, which is private to this user."""
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                             "uwsgi", "scgi"))
    return f"""{'user root;' if as_root else ''}
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'error.log'} warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    log_format upstream '$msec $status $request_method $uri $upstream_addr $upstream_status $request_time';
    access_log {prefix / 'access.log'} upstream;
    # The local run only: which web node answered, so that the drill can kill the one holding a live stream.
    add_header X-Upstream $upstream_addr always;
{temp}
    include {site};
}}
"""


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day: the local run's stand-in for the real one."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "local.crt", directory / "local.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path
