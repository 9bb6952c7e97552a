"""One typed settings object for the whole process (ONEVOICE_ environment prefix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "onevoice-development-secret-change-me"


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

    # The in-process worker drains the queue when no Redis is configured (embedded mode).
    embedded_worker: bool = True
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
    # Retrain the triage model by itself (triage/autotrain.py) after this many new corrections, or once a
    # day when there are any; 0 turns it off. Needs the train extra; a candidate is only switched on
    # when it is better on the organization's own held-out labels.
    retrain_after_corrections: int = 50
    # An incident closes by itself once its topic has had no negative message for this long and its rate
    # is back under the normal rate it had when the incident opened (pipeline/incidents.py).
    incident_quiet_minutes: float = Field(60.0, gt=0)

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

    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'onevoice.db').as_posix()}"
        if self.model_dir is None:
            self.model_dir = self.data_dir / "models"
        if self.environment == "production" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("ONEVOICE_SECRET_KEY must be set to a strong secret in production")
        return self

    @property
    def scale_out(self) -> bool:
        return bool(self.redis_url)
