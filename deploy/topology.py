"""OneVoice's production topology brought up on one machine, every piece its own process on a free port.

Used by `deploy/prove.py` (the failure drill) and `bench/bench_topology.py` (throughput): a PostgreSQL
instance of its own (initdb into a temporary directory), a Redis of its own, `onevoice serve` web nodes and
`onevoice worker` processes in scale-out mode, and Debian's nginx in front with the site file shipped in
`deploy/nginx/` (rendered with local ports and a self-signed certificate, nothing else changed). The
machine's own PostgreSQL and Redis services are never touched: this stack kills and restarts only what it
started itself.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from deploy.nginx_site import render_main_conf, render_site, self_signed_certificate

DEPLOY = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if result := predicate():
                return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def find_binary(name: str, extra_globs: tuple[str, ...] = ()) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found:
        return found
    for pattern in extra_globs:
        matches = sorted(glob.glob(pattern))
        if matches:
            return matches[-1]
    raise FileNotFoundError(f"{name} is not installed (see docs/operations.md, 'Proving the topology')")


class Postgres:
    """A PostgreSQL cluster of our own. initdb and postgres refuse to run as root, so as root the cluster
    belongs to the `postgres` system account (Debian's package creates it) and runs under it."""

    def __init__(self, root: Path) -> None:
        self.bindir = Path(find_binary("initdb", ("/usr/lib/postgresql/*/bin/initdb",))).resolve().parent
        # A directory of its own under the system's temporary directory: as root, the `postgres` account must
        # reach it, and the caller's directory may sit under one only root can enter (pytest's, for one).
        self.root = Path(tempfile.mkdtemp(prefix="onevoice-postgres-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = self.root / "postgres.log"
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")

    @property
    def url(self) -> str:
        return f"postgresql://onevoice@127.0.0.1:{self.port}/onevoice"

    def _as_owner(self) -> dict:
        return {"user": self.user.pw_uid, "group": self.user.pw_gid} if self.user else {}

    def init(self) -> None:
        if self.user:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        subprocess.run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "onevoice", "--auth=trust",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True, **self._as_owner())

    def start(self) -> None:
        log = open(self.log, "ab")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root),
             "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
            stdout=log, stderr=log, start_new_session=True, **self._as_owner())
        wait_for(self.accepts, 60, f"PostgreSQL on port {self.port} (log: {self.log})")

    def accepts(self) -> bool:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=onevoice dbname=postgres", connect_timeout=2):
            return True

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=onevoice dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE onevoice")

    def stop(self, mode: str = "fast") -> None:
        """fast: SIGINT (roll back sessions, checkpoint); immediate: SIGQUIT, a crash that recovers on start."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT if mode == "immediate" else signal.SIGINT)
            self.proc.wait(60)
        self.proc = None

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class Redis:
    def __init__(self, root: Path, persistent: bool = False) -> None:
        self.binary = find_binary("redis-server")
        self.root = root / "redis"
        self.port = free_port()
        self.persistent = persistent
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.root.mkdir(exist_ok=True)
        persistence = ["--appendonly", "yes", "--appendfsync", "everysec"] if self.persistent else \
            ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", str(self.root),
             "--daemonize", "no", "--logfile", str(self.root / "redis.log"), *persistence],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: port_open(self.port), 20, f"Redis on port {self.port}")

    def kill(self) -> None:
        """A crash: without persistence the stream, its group and everything pending are gone."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(20)
        self.proc = None


@dataclass
class Node:
    """One `onevoice serve` or `onevoice worker` process."""

    role: str
    name: str
    env: dict
    log: Path
    port: int | None = None
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        cli = [sys.executable, "-m", "onevoice.cli.main"]
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)] if self.role == "web" else \
            ["worker", "--name", self.name]
        log = open(self.log, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(cli + args, env=self.env, stdout=log, stderr=log, start_new_session=True)
        if self.role == "web":
            wait_for(self._healthy, 90, f"web node {self.name} (log: {self.log})")

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; log: {self.log}")
        import httpx

        return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200

    def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye, requests in flight cut."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(20)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Nginx:
    def __init__(self, root: Path, upstreams: list[int]) -> None:
        self.binary = find_binary("nginx")
        self.root = root / "nginx"
        self.https_port, self.http_port = free_port(), free_port()
        self.upstreams = upstreams
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def write_config(self) -> Path:
        self.root.mkdir(exist_ok=True)
        cert, key = self_signed_certificate(self.root)
        site = render_site((DEPLOY / "nginx" / "onevoice.conf").read_text(), upstreams=self.upstreams,
                           https_port=self.https_port, http_port=self.http_port, cert=cert, key=key,
                           proxy_include=DEPLOY / "nginx" / "onevoice-proxy.conf")
        (self.root / "site.conf").write_text(site)
        conf = self.root / "nginx.conf"
        conf.write_text(render_main_conf(self.root, self.root / "site.conf", as_root=os.geteuid() == 0))
        return conf

    def test_config(self) -> subprocess.CompletedProcess:
        conf = self.write_config()
        return subprocess.run([self.binary, "-t", "-p", str(self.root), "-e", str(self.root / "error.log"),
                               "-c", str(conf)], capture_output=True, text=True)

    def start(self) -> None:
        conf = self.write_config()
        self.proc = subprocess.Popen([self.binary, "-p", str(self.root), "-e", str(self.root / "error.log"),
                                      "-c", str(conf), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: port_open(self.https_port), 20, f"nginx on port {self.https_port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            # Fast (SIGTERM): graceful would wait for the open live streams; closing them lets the web nodes
            # behind it stop at once too.
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@dataclass
class Stack:
    """The whole topology. `with Stack(root, webs=2, workers=2) as stack:` starts it and always stops it."""

    root: Path
    webs: int = 2
    workers: int = 2
    settings: dict = field(default_factory=dict)
    redis_persistent: bool = False

    def __post_init__(self) -> None:
        self.postgres = Postgres(self.root)
        self.redis = Redis(self.root, self.redis_persistent)
        self.secret_key = secrets.token_urlsafe(48)
        self.web_nodes = [Node("web", f"web{i + 1}", {}, self.root / f"web{i + 1}.log", port=free_port())
                          for i in range(self.webs)]
        self.worker_nodes = [Node("worker", f"worker{i + 1}", {}, self.root / f"worker{i + 1}.log")
                             for i in range(self.workers)]
        self.nginx = Nginx(self.root, [n.port for n in self.web_nodes])
        self.token = ""
        self.webhook_secret = secrets.token_urlsafe(24)

    def env(self) -> dict:
        """What an operator puts in /etc/onevoice/onevoice.env (deploy/systemd/onevoice.env.example)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ONEVOICE_")}
        env.update({
            "ONEVOICE_ENVIRONMENT": "production", "ONEVOICE_SECRET_KEY": self.secret_key,
            "ONEVOICE_DATABASE_URL": self.postgres.url, "ONEVOICE_REDIS_URL": self.redis.url,
            "ONEVOICE_DATA_DIR": str(self.root / "data"), "ONEVOICE_TRUSTED_PROXIES": "127.0.0.1",
            "ONEVOICE_AUDIT_KEY_FILE": str(self.root / "audit.key"),
            "ONEVOICE_LOG_JSON": "false", "ONEVOICE_LOG_LEVEL": "WARNING",
            "ONEVOICE_RETRAIN_AFTER_CORRECTIONS": "0",
        })
        env.update({f"ONEVOICE_{k.upper()}": str(v) for k, v in self.settings.items()})
        return env

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.postgres.init()
        self.postgres.start()
        self.postgres.create_database()
        self.redis.start()
        env = self.env()
        onevoice = [sys.executable, "-m", "onevoice.cli.main"]
        subprocess.run(onevoice + ["audit", "new-key", "-o", str(self.root / "audit.key")], env=env, check=True,
                       capture_output=True)
        # Once per release, before any node starts (deploy/systemd/onevoice-migrate.service).
        subprocess.run(onevoice + ["db", "upgrade"], env=env, check=True, capture_output=True)
        self.token = seed(env, self.webhook_secret)
        for node in self.web_nodes + self.worker_nodes:
            node.env = env
            node.start()
        self.nginx.start()

    def stop(self) -> None:
        self.nginx.stop()
        for node in self.web_nodes + self.worker_nodes:
            node.stop()
        self.redis.kill()
        self.postgres.stop("fast")
        self.postgres.remove()


LEAD = "lead@prove.onevoice.test"


def seed(env: dict, webhook_secret: str) -> str:
    """Teams, one API intake channel and one signed webhook channel, a coordinator who signs in to the pages
    (LEAD, with the webhook secret as password), and an API token (printed last)."""
    script = (
        "import sys\n"
        "from onevoice.settings import Settings\n"
        "from onevoice.cli.common import session_scope\n"
        "from onevoice.demo.seed import TEAMS\n"
        "from onevoice.teams.service import add_team\n"
        "from onevoice.channels.service import add_channel\n"
        "from onevoice.auth.tokens import create_token\n"
        "s = Settings()\n"
        "with session_scope(s) as session:\n"
        "    for key, name in TEAMS.items():\n"
        "        add_team(session, key, name)\n"
        "    add_channel(session, 'api', 'webhook', 'API intake', config={'secret': sys.argv[1]},\n"
        "                secret_key=s.secret_key.get_secret_value())\n"
        "    add_channel(session, 'hooks', 'webhook', 'Signed webhook', config={'secret': sys.argv[1]},\n"
        "                secret_key=s.secret_key.get_secret_value())\n"
        "    from onevoice.auth.users import create_user\n"
        "    create_user(session, 'lead@prove.onevoice.test', 'Lead', sys.argv[1], 'coordinator', ['support'])\n"
        "    print(create_token(session, 'prove')[1])\n")
    out = subprocess.run([sys.executable, "-c", script, webhook_secret], env=env, check=True, capture_output=True,
                         text=True)
    return out.stdout.strip().splitlines()[-1]
