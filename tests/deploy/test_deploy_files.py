"""What an operator deploys (deploy/), checked as far as this machine can: base images cannot be pulled here,
so the Dockerfile and compose file are parsed and held to their promises; the systemd units go through
`systemd-analyze verify`; the nginx site through `nginx -t` and against the application's own limits."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from deploy.nginx_site import render_site
from deploy.topology import Nginx, free_port

from onevoice.pipeline import webhooks
from onevoice.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _need(tool: str) -> str:
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if path is None:
        if IN_CI:
            pytest.fail(f"{tool} is required when CI=true (make deploy-tools installs it)")
        pytest.skip(f"{tool} is not installed (make deploy-tools)")
    return path


# Dockerfile ------------------------------------------------------------------------------------------------

def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        word, _, rest = current.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def final_stage(instructions):
    start = max(i for i, (word, _a) in enumerate(instructions) if word == "FROM")
    return instructions[start:]


def test_dockerfile_is_multi_stage_installs_the_hashed_lock_and_runs_unprivileged():
    instructions = dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
    assert sum(word == "FROM" for word, _a in instructions) >= 2, "a build stage and a run stage"
    runs = [args for word, args in instructions if word == "RUN"]
    lock_install = [r for r in runs if "requirements-lock.txt" in r]
    assert lock_install and all("--require-hashes" in r for r in lock_install), lock_install
    # The lock is the whole closure: resolving it again let an old pip refuse it (an extra needing a pin).
    assert all("--no-deps" in r and "pip check" in r for r in lock_install), lock_install
    copied = " ".join(args for word, args in instructions if word == "COPY")
    assert "requirements-lock.txt" in copied and "src" in copied
    # OneVoice itself must not pull anything the lock did not check.
    project = [r for r in runs if re.search(r"pip install .*--no-deps.* \.(\s|$)", r)]
    assert project, "OneVoice is installed with --no-deps"
    run_stage = final_stage(instructions)
    users = [args for word, args in run_stage if word == "USER"]
    assert users, "the run stage sets a USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), user
    assert any(word == "COPY" and "--from=build" in args for word, args in run_stage), "only the built venv"
    checks = [args for word, args in instructions if word == "HEALTHCHECK"]
    assert len(checks) == 1 and re.search(r"/(healthz|readyz)\b", checks[0]), checks
    cmd = [args for word, args in run_stage if word == "CMD"][-1]
    assert "onevoice" in cmd and "serve" in cmd


def test_dockerfile_copies_what_the_package_build_needs():
    # pyproject names README.md as the readme: a build without it fails, which nothing here would show.
    instructions = dockerfile_instructions((DEPLOY / "Dockerfile").read_text())
    copied = " ".join(args for word, args in instructions if word == "COPY")
    readme = re.search(r'^readme = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    for needed in ("pyproject.toml", readme.group(1) if readme else "pyproject.toml", "src"):
        assert needed in copied, needed
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert not {"src", "pyproject.toml", "requirements-lock.txt", "README.md"} & set(ignored)


def test_dockerfile_parser_sees_a_root_user():
    """The checks above can fail: the same parser on a Dockerfile that ends as root."""
    bad = "FROM python AS build\nRUN pip install -r requirements-lock.txt\nFROM python\nUSER root\n"
    instructions = dockerfile_instructions(bad)
    assert [a for w, a in final_stage(instructions) if w == "USER"] == ["root"]
    assert not any("--require-hashes" in a for w, a in instructions if w == "RUN")


# compose ----------------------------------------------------------------------------------------------------

def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_postgres_redis_two_web_nodes_two_workers_and_nginx():
    services = compose()["services"]
    assert {"postgres", "redis", "web1", "web2", "worker1", "worker2", "nginx"} <= set(services)
    for name in ("postgres", "redis", "web1", "web2"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has a health check"
    for name in ("web1", "web2"):
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
        assert services[name]["command"][:2] == ["onevoice", "serve"]
    for name in ("web1", "web2", "worker1", "worker2"):
        needs = services[name]["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy"
        assert needs["redis"]["condition"] == "service_healthy"
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        env = services[name]["environment"]
        assert env["ONEVOICE_REDIS_URL"].startswith("redis://redis:"), "scale-out mode"
        assert env["ONEVOICE_DATABASE_URL"].startswith("postgresql://")
    for name in ("worker1", "worker2"):
        assert services[name]["command"][:2] == ["onevoice", "worker"]
        assert services[name]["healthcheck"] == {"disable": True}, "the image's check asks a web server"
    assert services["migrate"]["command"] == ["onevoice", "db", "upgrade"]
    assert {n: c["condition"] for n, c in services["nginx"]["depends_on"].items()} == \
        {"web1": "service_healthy", "web2": "service_healthy"}


def test_compose_addresses_are_the_ones_the_nginx_site_names():
    spec = compose()
    services = spec["services"]
    site = (DEPLOY / "nginx" / "onevoice.conf").read_text()
    upstream = re.findall(r"^\s*server (\d+\.\d+\.\d+\.\d+):(\d+)", site, re.M)
    web_addresses = {services[n]["networks"]["onevoice"]["ipv4_address"] for n in ("web1", "web2")}
    assert {a for a, _p in upstream} == web_addresses
    assert {p for _a, p in upstream} == {"8000"}
    proxy = services["nginx"]["networks"]["onevoice"]["ipv4_address"]
    assert services["web1"]["environment"]["ONEVOICE_TRUSTED_PROXIES"] == proxy, "X-Forwarded-* believed from nginx"
    mounts = {m.split(":")[1] for m in services["nginx"]["volumes"]}
    include = re.search(r"include (\S+);", site).group(1)
    assert include in mounts, "the site's include is where compose puts the snippet"
    cert_dir = str(Path(re.search(r"ssl_certificate (\S+);", site).group(1)).parent)
    assert cert_dir in mounts


# systemd ----------------------------------------------------------------------------------------------------

def unit(name: str) -> dict[str, list[str]]:
    """key -> values (systemd keys repeat) across sections."""
    values: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@pytest.mark.parametrize("name", ["onevoice-web@.service", "onevoice-worker@.service"])
def test_units_restart_read_the_environment_file_and_are_hardened(name):
    u = unit(name)
    assert u["Restart"] == ["always"] and u["StartLimitIntervalSec"] == ["0"]
    assert u["EnvironmentFile"] == ["/etc/onevoice/onevoice.env"]
    assert u["User"] == ["onevoice"] and u["KillSignal"] == ["SIGTERM"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "",
                       "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "RestrictSUIDSGID": "yes"}.items():
        assert u.get(key) == [value], key
    assert "onevoice-migrate.service" in " ".join(u["After"])
    command = shlex.split(u["ExecStart"][0])
    assert command[1] == ("serve" if "web" in name else "worker")


def test_units_pass_systemd_analyze_verify(tmp_path):
    tool = _need("systemd-analyze")
    onevoice = shutil.which("onevoice") or str(Path(os.sys.executable).with_name("onevoice"))
    for path in (DEPLOY / "systemd").glob("onevoice*"):
        if path.suffix in (".service", ".target"):
            (tmp_path / path.name).write_text(path.read_text().replace("/opt/onevoice/.venv/bin/onevoice", onevoice))
    (tmp_path / "onevoice-web@8000.service").write_text((tmp_path / "onevoice-web@.service").read_text())
    (tmp_path / "onevoice-worker@1.service").write_text((tmp_path / "onevoice-worker@.service").read_text())
    names = ["onevoice-web@8000.service", "onevoice-worker@1.service", "onevoice-migrate.service", "onevoice.target"]
    out = subprocess.run([tool, "verify", "--man=no", *[f"./{n}" for n in names]], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    # verify exits 0 even for an unknown key, which it only reports: any output is a finding.
    assert out.returncode == 0 and not (out.stdout + out.stderr).strip(), out.stdout + out.stderr


def test_environment_example_names_real_settings():
    fields = {f"ONEVOICE_{name.upper()}" for name in Settings.model_fields} | {"ONEVOICE_BIND_HOST"}
    example = (DEPLOY / "systemd" / "onevoice.env.example").read_text()
    keys = set(re.findall(r"^(ONEVOICE_[A-Z_]+)=", example, re.M))
    assert keys and keys <= fields, keys - fields
    assert "ONEVOICE_BIND_HOST" in " ".join(unit("onevoice-web@.service")["ExecStart"])


# nginx ------------------------------------------------------------------------------------------------------

def locations(conf: str) -> dict[str, str]:
    return {m.group(1).strip(): m.group(2) for m in re.finditer(r"location ([^{]+)\{([^}]*)\}", conf)}


def test_nginx_limits_match_the_application():
    proxy = (DEPLOY / "nginx" / "onevoice-proxy.conf").read_text()
    server_level = re.sub(r"location [^{]+\{[^}]*\}", "", proxy)
    assert re.search(r"client_max_body_size (\d+);", server_level).group(1) == str(Settings(environment="test")
                                                                                   .max_body_bytes)
    hooks = locations(proxy)["/webhooks/"]
    assert re.search(r"client_max_body_size (\d+);", hooks).group(1) == str(webhooks.MAX_BODY)


STREAM_ROUTES = ("/api/v1/stream", "/live")


def test_the_event_stream_routes_are_still_there(tmp_path):
    """The nginx locations below name these paths: a renamed stream would be buffered by the catch-all."""
    from fastapi.testclient import TestClient

    from onevoice.app import create_app

    settings = Settings(environment="test", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/x.db")
    with TestClient(create_app(settings, start_worker=False), raise_server_exceptions=False) as client:
        for path in STREAM_ROUTES:
            assert client.get(path, follow_redirects=False).status_code != 404, path
        assert client.get("/api/v1/no-such-stream").status_code == 404


def test_nginx_streams_live_updates_unbuffered_and_uncompressed():
    proxy = (DEPLOY / "nginx" / "onevoice-proxy.conf").read_text()
    blocks = locations(proxy)
    for path in ("/api/v1/stream", "/live"):
        assert path in STREAM_ROUTES
        block = blocks[f"= {path}"]
        for directive in ("proxy_buffering off;", "gzip off;", "proxy_cache off;"):
            assert directive in block, (path, directive)
        seconds = re.search(r"proxy_read_timeout (\d+)(h|s);", block)
        assert seconds and int(seconds.group(1)) * (3600 if seconds.group(2) == "h" else 1) >= 600
    assert "text/event-stream" not in re.search(r"gzip_types ([^;]+);", proxy).group(1)


def test_nginx_passes_forwarded_headers_and_resends_only_idempotent_intake():
    proxy = (DEPLOY / "nginx" / "onevoice-proxy.conf").read_text()
    for header in ("X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme", "Host $host"):
        assert f"proxy_set_header {header};" in proxy
    blocks = locations(proxy)
    resent = {path for path, block in blocks.items() if "non_idempotent" in block}
    assert resent == {"/webhooks/", "= /api/v1/messages"}, "only intake, idempotent on the platform's id"
    site = (DEPLOY / "nginx" / "onevoice.conf").read_text()
    assert "listen 443 ssl http2;" in site and "return 301 https://" in site
    assert re.search(r"max_fails=\d+ fail_timeout=\d+s", site), "passive health checks on the upstream"


def test_the_rendered_site_changes_only_addresses_ports_and_files(tmp_path):
    site = (DEPLOY / "nginx" / "onevoice.conf").read_text()
    rendered = render_site(site, upstreams=[8101, 8102], https_port=9443, http_port=9080,
                           cert=tmp_path / "c.pem", key=tmp_path / "k.pem", proxy_include=tmp_path / "p.conf")
    assert "server 127.0.0.1:8101 max_fails=2 fail_timeout=5s;" in rendered and "10.0.0.11" not in rendered
    assert "listen 127.0.0.1:9443 ssl http2;" in rendered and f"include {tmp_path / 'p.conf'};" in rendered
    keep = lambda text: [line for line in text.splitlines()  # noqa: E731
                         if not re.search(r"listen|server \d|server 127|ssl_certificate|include", line)]
    assert keep(rendered) == keep(site)
    with pytest.raises(ValueError, match="changed"):
        render_site(site.replace("listen 443 ssl http2;", "listen 443 ssl;"), upstreams=[1], https_port=2,
                    http_port=3, cert=tmp_path, key=tmp_path, proxy_include=tmp_path)


def test_nginx_accepts_the_site(tmp_path):
    _need("nginx")
    proxy = Nginx(tmp_path, upstreams=[8101, 8102])
    out = proxy.test_config()
    assert out.returncode == 0, out.stderr
    assert "syntax is ok" in out.stderr and "test is successful" in out.stderr


def test_nginx_speaks_http2_over_tls_and_redirects_plain_http(tmp_path):
    """The site as served: TLS with HTTP/2 negotiated (ALPN), plain http redirected, and a request the web
    nodes cannot take (none run here) answered 502 by nginx, not hung."""
    _need("nginx")
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    proxy = Nginx(tmp_path, upstreams=[free_port(), free_port()])
    proxy.start()
    try:
        out = subprocess.run([curl, "-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                              f"{proxy.url}/healthz"], capture_output=True, text=True, timeout=30)
        assert out.stdout == "2 502", out.stdout + out.stderr
        plain = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                                f"http://127.0.0.1:{proxy.http_port}/inbox"], capture_output=True, text=True,
                               timeout=30)
        assert plain.stdout.startswith("301 https://"), plain.stdout
    finally:
        proxy.stop()


def test_make_install_installs_the_lock_as_the_whole_closure():
    """`make install` (what `make test` and `.ci/run` start with) installs the hashed lock without resolving it
    again, then checks it is complete: a fresh virtualenv's pip 23.2 refused the lock when it resolved it."""
    recipe = (DEPLOY.parent / "Makefile").read_text()
    lock_install = [line for line in recipe.splitlines() if "-r $(LOCK)" in line and "pip install" in line]
    assert lock_install and all("--require-hashes" in r and "--no-deps" in r for r in lock_install), lock_install
    assert "-m pip check" in recipe
