"""Settings every service reads from its environment. One name per knob, the same in every service."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

DEVELOPMENT_LINK_SECRET = "development-only-link-secret"
DEVELOPMENT_SUPPLIER_KEY = "development-only-supplier-secret-key"
_LOCAL_HOSTS = {"localhost", "0.0.0.0", "::1", "::"}
# Names reserved for documentation and tests (RFC 2606, RFC 6761): an example address left in a deployment's
# settings would e-mail clients links that lead nowhere.
_RESERVED_SUFFIXES = (".example", ".invalid", ".test", ".localhost", "example.com", "example.net", "example.org")
DEFAULT_PORTS = {"customers": 8101, "itinerary": 8102, "booking": 8103, "notify": 8104, "feedback": 8105}


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _secret(name: str, default: str) -> str:
    """A secret from ``NAME`` or from the file ``NAME_FILE`` names (how Docker and Kubernetes mount secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return _env(name, default)


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ServiceSettings:
    service_name: str
    host: str = "127.0.0.1"
    port: int = 8100
    mongodb_url: str = "mongodb://127.0.0.1:27017"
    mongodb_database: str = ""
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_partitions: int = 4
    kafka_create_topics: bool = True
    # Tansu joins groups slowly with the client defaults (10 s / 3 s); the embedded stack lowers these.
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    # How long a fetch may wait for data. Kafka answers as soon as data arrives; the embedded Tansu waits it out,
    # so the local stack lowers it (500 ms: a hop p50 of 150 ms; 50 ms: 6 ms).
    kafka_fetch_max_wait_ms: int = 500
    # Events a consumer handles in one transaction when a backlog lets it (one inbox write, one commit for all).
    kafka_consumer_batch_max: int = 50
    # How often the service checks that Kafka still has its topics and identity (0: never), and how far back its
    # outbox publishes again when Kafka lost its data.
    kafka_watch_interval_s: float = 2.0
    # Build read models from the owners' compacted state topics when the database never was (state_topics.py).
    read_model_rebuild: bool = True
    kafka_recovery_republish_s: float = 900.0
    consumer_max_attempts: int = 4
    consumer_retry_backoff_s: float = 0.5
    outbox_poll_interval_s: float = 1.0
    # How long a request naming something another service just created waits for that service's event.
    read_model_wait_s: float = 3.0
    api_keys: str = ""
    api_keys_file: str = ""
    public_base_url: str = ""
    # Where clients reach the other services' pages this one links to (the live itinerary, its updates, where to
    # complain); "" = none.
    itinerary_public_url: str = ""
    notify_public_url: str = ""
    feedback_public_url: str = ""
    # Signs links to client-facing pages; must be the same on every replica and kept secret.
    link_signing_secret: str = DEVELOPMENT_LINK_SECRET
    # Derives each webhook supplier's signing secret (booking shows it, notify signs with it, booking verifies).
    supplier_secret_key: str = DEVELOPMENT_SUPPLIER_KEY
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_sender: str = "Trip Desk <trips@agency.example>"
    # notify: text messages through an SMS provider with Twilio's API (off while no account is set).
    sms_api_url: str = "https://api.twilio.com"
    sms_account_sid: str = ""
    sms_auth_token: str = ""
    sms_from: str = ""  # the sending number (E.164), or a Messaging Service SID (MG…)
    # notify: changes to an approved trip go to its client in one digest once the trip has been quiet this long,
    # and at the latest this long after the first change (urgent changes go at once).
    change_digest_quiet_s: float = 600.0
    change_digest_max_wait_s: float = 3600.0
    # notify: how often it looks for reminders due (a week, 72 h and 24 h before departure; each evening's summary);
    # feedback: how often it looks for surveys and survey reminders due.
    reminder_check_interval_s: float = 60.0
    # notify: an urgent message its client has not confirmed reading within this long is escalated to the planner.
    urgent_ack_timeout_s: float = 7200.0
    otlp_endpoint: str = ""
    log_level: str = "INFO"
    # The HTTP edge: no body is parsed beyond this size, no request runs past this deadline, and a client that
    # fails authentication this many times in a minute waits.
    http_max_body_bytes: int = 256 * 1024
    request_timeout_s: float = 10.0
    auth_failures_per_minute: int = 20
    # Each tenant's agency name and on-trip support contacts, as JSON or a JSON file (see trip_shared.agency).
    agency_profiles: str = ""
    agency_profiles_file: str = ""
    # "production" refuses settings that are only safe on a developer's machine (see production_problems).
    environment: str = "development"
    extra: dict[str, str] = field(default_factory=dict)

    def production_problems(self) -> list[str]:
        """What makes these settings unsafe to serve real clients with; empty when they are fine."""
        problems = []
        if self.link_signing_secret == DEVELOPMENT_LINK_SECRET or len(self.link_signing_secret) < 32:
            problems.append("LINK_SIGNING_SECRET (or LINK_SIGNING_SECRET_FILE) must be set to a random secret of "
                            "at least 32 characters: the development value is public, and anyone could forge "
                            "client links with it")
        if self.supplier_secret_key == DEVELOPMENT_SUPPLIER_KEY or len(self.supplier_secret_key) < 32:
            problems.append("SUPPLIER_SECRET_KEY (or SUPPLIER_SECRET_KEY_FILE) must be set to a random secret of at "
                            "least 32 characters, the same for booking and notify: suppliers' webhook signing "
                            "secrets are derived from it")
        url = urlsplit(self.public_base_url)
        if not self.public_base_url:
            problems.append("PUBLIC_BASE_URL must be set to the address clients use (it goes into e-mailed links)")
        elif url.scheme != "https" or not url.hostname or url.hostname in _LOCAL_HOSTS \
                or url.hostname.startswith("127."):
            problems.append(f"PUBLIC_BASE_URL={self.public_base_url!r} must be an https:// address clients can "
                            "reach, not a local one: links carry credentials")
        elif url.hostname.endswith(_RESERVED_SUFFIXES):
            problems.append(f"PUBLIC_BASE_URL={self.public_base_url!r} is a reserved example name: set the https:// "
                            "address clients really reach (links go out in e-mails)")
        return problems

    @property
    def database_name(self) -> str:
        return self.mongodb_database or self.service_name

    @property
    def base_url(self) -> str:
        return self.public_base_url or f"http://{self.host}:{self.port}"

    def with_overrides(self, **changes) -> ServiceSettings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, service_name: str) -> ServiceSettings:
        return cls(
            service_name=service_name,
            host=_env("SERVICE_HOST", "127.0.0.1"),
            port=int(_env("SERVICE_PORT", str(DEFAULT_PORTS.get(service_name, 8100)))),
            mongodb_url=_env("MONGODB_URL", "mongodb://127.0.0.1:27017"),
            mongodb_database=_env("MONGODB_DATABASE", service_name),
            kafka_bootstrap_servers=_env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            kafka_topic_partitions=int(_env("KAFKA_TOPIC_PARTITIONS", "4")),
            kafka_create_topics=_env_bool("KAFKA_CREATE_TOPICS", True),
            kafka_session_timeout_ms=int(_env("KAFKA_SESSION_TIMEOUT_MS", "10000")),
            kafka_heartbeat_interval_ms=int(_env("KAFKA_HEARTBEAT_INTERVAL_MS", "3000")),
            kafka_fetch_max_wait_ms=int(_env("KAFKA_FETCH_MAX_WAIT_MS", "500")),
            kafka_consumer_batch_max=int(_env("KAFKA_CONSUMER_BATCH_MAX", "50")),
            kafka_watch_interval_s=float(_env("KAFKA_WATCH_INTERVAL_S", "2")),
            read_model_rebuild=_env_bool("READ_MODEL_REBUILD", True),
            kafka_recovery_republish_s=float(_env("KAFKA_RECOVERY_REPUBLISH_S", "900")),
            consumer_max_attempts=int(_env("CONSUMER_MAX_ATTEMPTS", "4")),
            consumer_retry_backoff_s=float(_env("CONSUMER_RETRY_BACKOFF_S", "0.5")),
            outbox_poll_interval_s=float(_env("OUTBOX_POLL_INTERVAL_S", "1.0")),
            read_model_wait_s=float(_env("READ_MODEL_WAIT_S", "3.0")),
            api_keys=_env("API_KEYS", ""),
            api_keys_file=_env("API_KEYS_FILE", ""),
            public_base_url=_env("PUBLIC_BASE_URL", ""),
            itinerary_public_url=_env("ITINERARY_PUBLIC_URL", ""),
            notify_public_url=_env("NOTIFY_PUBLIC_URL", ""),
            feedback_public_url=_env("FEEDBACK_PUBLIC_URL", ""),
            link_signing_secret=_secret("LINK_SIGNING_SECRET", DEVELOPMENT_LINK_SECRET),
            supplier_secret_key=_secret("SUPPLIER_SECRET_KEY", DEVELOPMENT_SUPPLIER_KEY),
            smtp_host=_env("SMTP_HOST", "127.0.0.1"),
            smtp_port=int(_env("SMTP_PORT", "2525")),
            smtp_sender=_env("SMTP_SENDER", "Trip Desk <trips@agency.example>"),
            sms_api_url=_env("SMS_API_URL", "https://api.twilio.com"),
            sms_account_sid=_env("SMS_ACCOUNT_SID", ""),
            sms_auth_token=_secret("SMS_AUTH_TOKEN", ""),
            sms_from=_env("SMS_FROM", ""),
            change_digest_quiet_s=float(_env("CHANGE_DIGEST_QUIET_S", "600")),
            change_digest_max_wait_s=float(_env("CHANGE_DIGEST_MAX_WAIT_S", "3600")),
            reminder_check_interval_s=float(_env("REMINDER_CHECK_INTERVAL_S", "60")),
            urgent_ack_timeout_s=float(_env("URGENT_ACK_TIMEOUT_S", "7200")),
            otlp_endpoint=_env("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
            log_level=_env("LOG_LEVEL", "INFO"),
            http_max_body_bytes=int(_env("HTTP_MAX_BODY_BYTES", str(256 * 1024))),
            request_timeout_s=float(_env("REQUEST_TIMEOUT_S", "10")),
            auth_failures_per_minute=int(_env("AUTH_FAILURES_PER_MINUTE", "20")),
            agency_profiles=_env("AGENCY_PROFILES", ""),
            agency_profiles_file=_env("AGENCY_PROFILES_FILE", ""),
            environment=_env("TRIP_DESK_ENV", "development").strip().lower(),
        )
