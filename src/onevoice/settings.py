"""One typed settings object for the whole process (ONEVOICE_ environment prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from onevoice.egress import parse_networks

DEV_SECRET = "onevoice-development-secret-change-me"
# The only environments that may run with DEV_SECRET (and only while listening on loopback, cli/serving.py).
DEVELOPMENT = ("development", "test")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONEVOICE_", env_file=None, extra="ignore")

    environment: str = Field("development", description="development, test or production")
    data_dir: Path = Path("./data")
    database_url: str = ""
    redis_url: str | None = None
    # Every Redis key starts with this, so that several deployments (or test runs) can share a server.
    redis_prefix: str = "onevoice"
    secret_key: SecretStr = SecretStr(DEV_SECRET)

    host: str = "127.0.0.1"
    port: int = 8000
    # The reverse proxies (comma-separated addresses or networks, e.g. "127.0.0.1" for one on this machine)
    # whose X-Forwarded-For / X-Forwarded-Proto are believed. Empty: none, the connecting address is the client.
    trusted_proxies: str = ""
    # The session cookie's Secure flag: None sets it for https requests (directly or as a trusted proxy says)
    # and outside development/test; true or false forces it.
    cookie_secure: bool | None = None
    # /metrics answers anyone when true; otherwise it needs an API token with the metrics:read scope.
    metrics_public: bool = False

    # The in-process worker drains the queue when no Redis is configured (embedded mode).
    embedded_worker: bool = True
    # `onevoice serve` runs that worker in a child process of its own (two cores at work; worker/child.py);
    # false keeps it a thread of the server.
    worker_process: bool = True
    # On SQLite, up to that many worker processes (worker/child.py): the first works alone until a backlog
    # outlasts its largest batches, then each takes its share of the messages (worker/spread.py), so that both
    # cores process the batched API's backlog. Each process holds its own models (~220 MB); 1 saves that memory.
    # PostgreSQL deployments run `onevoice worker`s instead.
    worker_processes: int = 2
    # On SQLite without Redis, verified webhook deliveries are answered once they are in the intake journal
    # (pipeline/journal.py: group-committed, fsynced) and stored as messages by the worker; false stores each
    # delivery in its own database transaction inside the request, as scale-out (PostgreSQL) deployments do.
    intake_journal: bool = True
    worker_batch_size: int = 200
    # A message accepted this long ago and still not processed is handed to a worker again;
    # this covers a crash between committing the message and enqueueing it.
    requeue_after_seconds: float = 30.0
    # Redis Streams deliveries left unacknowledged this long are reclaimed by another worker.
    reclaim_idle_ms: int = 30_000
    max_attempts: int = 5

    max_batch: int = 1000
    max_text_chars: int = 40_000
    max_body_bytes: int = 25_000_000

    # Triage: retrained model versions are written under model_dir (default data_dir/models); the public
    # labelled data for `onevoice model train` is read from training_data_dir (default ../shared/data).
    model_dir: Path | None = None
    training_data_dir: Path | None = None
    # Give the messages the fast triage is unsure about (about a quarter) a second opinion from the
    # sentence-embedding layer (triage/escalation.py): better on every held-out set at little cost, see
    # bench/README.md "Escalation". False keeps the fast path alone.
    triage_escalation: bool = True
    # Within escalation, read sentiment with the fine-tuned transformer too (triage/transformer.py, int8
    # ONNX with onnxruntime): better on general tweets, ~2 ms of CPU per escalated message; see
    # docs/triage.md "Escalation". False leaves escalation to the static encoder alone.
    triage_sentiment_transformer: bool = True
    # Retrain the triage model by itself (triage/autotrain.py) after this many new corrections, or once a
    # day when there are any; 0 turns it off. Needs the train extra; a candidate is only switched on
    # when it is better on the organization's own held-out labels.
    retrain_after_corrections: int = 50
    # An incident closes by itself once its topic has had no negative message for this long and its rate
    # is back under the normal rate it had when the incident opened (pipeline/incidents.py).
    incident_quiet_minutes: float = Field(60.0, gt=0)
    # A case pending on the customer with nothing done for this many days is resolved (cases/pending.py); 0: never.
    pending_customer_days: float = Field(7.0, ge=0)
    # How often this node's scheduler brings the reports' facts up to date (reports/upkeep.py). Longer gaps make
    # bigger, cheaper-per-message passes (figures lag by up to this much); 0: this node does not keep them, for
    # a deployment that runs the upkeep on one node only, or as `onevoice reports upkeep` from a timer.
    reports_upkeep_seconds: float = Field(10.0, ge=0)
    # While the pipeline is behind (a surge: pipeline/backlog.py), the upkeep waits, up to this long since its
    # last pass, so that processing gets the cores and the write lock; 0: it never waits.
    reports_upkeep_wait_seconds: float = Field(60.0, ge=0)

    # Single sign-on with OpenID Connect: set the issuer, client id and secret to show "Sign in with SSO".
    # The redirect URL defaults to <this server>/login/sso/callback as the browser reached it.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_url: str | None = None
    oidc_label: str = "single sign-on"

    # Approval escalations are notified in the app; also POSTed (JSON, HMAC-signed with the secret) here if set.
    escalation_webhook_url: str | None = None
    escalation_webhook_secret: SecretStr | None = None

    # Every server-side fetch of a URL (media, webhooks, channel servers, the sign-in provider) reaches public
    # addresses only (onevoice/egress.py). These networks (comma-separated, e.g. "10.20.0.0/16") are exempted:
    # an internal sign-in provider or receiver; "127.0.0.0/8" for a stand-in on this machine in development.
    outbound_allow_networks: str = ""
    # When set (comma-separated host names; ".acme.example" or "*.acme.example" for every name under it), a
    # post's media is fetched only from these hosts, on every redirect hop.
    media_hosts: str = ""
    # The audit log's anchor outside the database (audit/anchor.py, docs/security.md): the key that seals
    # each record (a file only the service can read, preferred; or the value itself), and the file that
    # checkpoints of the head are appended to (default data_dir/audit-checkpoints.jsonl), every so often.
    audit_key_file: Path | None = None
    audit_key: SecretStr | None = None
    audit_checkpoint_path: Path | None = None
    audit_checkpoint_minutes: float = Field(15.0, ge=0, description="0 turns the periodic checkpoint off")

    # Email (notifications/): the weekly digest and alerts go out through this SMTP server. With no host, mail
    # is written as .eml files under data_dir/mail instead (the development and demo stand-in).
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "OneVoice <onevoice@localhost>"
    # "starttls" (upgrade a plain connection, port 587), "ssl" (TLS from the start, port 465) or "none".
    smtp_tls: str = Field("starttls", pattern="^(starttls|ssl|none)$")
    smtp_timeout: float = Field(20.0, gt=0)
    # A CA certificate (PEM) to trust for the SMTP server beside the system's: a relay with a private CA.
    smtp_ca_file: Path | None = None
    # Links in emails point here (the address people open OneVoice at).
    public_url: str = "http://127.0.0.1:8000"
    # The weekly digest covers the last full week (Monday to Sunday, UTC) and goes out from this hour on Monday.
    digest_hour_utc: int = Field(7, ge=0, le=23)
    # Won leads' amounts are recorded in this currency (ISO 4217): the reports add them up.
    currency: str = Field("EUR", pattern="^[A-Z]{3}$")

    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("outbound_allow_networks", "trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a typo fails at start-up, not at the first fetch
        return value

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'onevoice.db').as_posix()}"
        if self.model_dir is None:
            self.model_dir = self.data_dir / "models"
        if self.environment not in DEVELOPMENT and self.uses_development_secret:
            # Fail closed: "prod", "staging" or a typo are not development either.
            raise ValueError(f"ONEVOICE_SECRET_KEY must be set to a strong secret (environment "
                             f"{self.environment!r} is not one of {', '.join(DEVELOPMENT)})")
        return self

    @property
    def uses_development_secret(self) -> bool:
        return self.secret_key.get_secret_value() == DEV_SECRET

    @property
    def scale_out(self) -> bool:
        return bool(self.redis_url)
