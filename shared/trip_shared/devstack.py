"""The whole platform on one machine, no Docker: ``python -m trip_shared.devstack up``.

Starts the embedded infrastructure (Tansu for Kafka, SecantusDB for MongoDB, an aiosmtpd Maildir sink, a local
stand-in for the SMS provider),
creates every topic, provisions a development API key, then starts the five services as subprocesses and
waits until each one's ``/readyz`` answers 200. Ctrl-C / SIGTERM stops the services (SIGTERM), then the
infrastructure. Everything lives under the var dir (default ``./var``)::

    var/mongo/            SecantusDB data (unless --ephemeral)
    var/maildir/          every mail the services send (a Maildir; open it with ``mailbox.Maildir``)
    var/sms.jsonl         every text message notify sends, one JSON line each
    var/logs/<name>.log   each process's output
    var/dev-api-key.txt   the development API key (kept across runs)
    var/api-keys.json     the API-key file the services read (API_KEYS_FILE)
    var/stack.json        URLs of everything, while the stack is up

Ports default to customers 8101, itinerary 8102, booking 8103, notify 8104, feedback 8105, kafka 19092,
mongodb 27217, smtp 2525, sms 8125; override each with ``STACK_<NAME>_PORT`` (e.g. ``STACK_KAFKA_PORT=29092``).
With ``KAFKA_BOOTSTRAP_SERVERS`` or ``MONGODB_URL`` set, that server is used instead of an embedded one.

Tests use :class:`EmbeddedStack` directly (free ports, a temporary var dir)::

    with EmbeddedStack(tmp_path, extra_env={"OTEL_EXPORTER_OTLP_ENDPOINT": url}) as stack:
        base = stack.stack_info["services"]["booking"]
        stack.stop_service("notify", kill=True)
        stack.start_service("notify")
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from trip_shared import api_keys, embedded
from trip_shared.embedded import EmbeddedStartError, ManagedProcess
from trip_shared.web.auth import hash_key

SERVICES: tuple[str, ...] = ("customers", "itinerary", "booking", "notify", "feedback")
INFRA: tuple[str, ...] = ("kafka", "mongodb", "smtp", "sms")
DEFAULT_STACK_PORTS: dict[str, int] = {
    "customers": 8101,
    "itinerary": 8102,
    "booking": 8103,
    "notify": 8104,
    "feedback": 8105,
    "kafka": 19092,
    "mongodb": 27217,
    "smtp": 2525,
    "sms": 8125,
    "console": 8100,
}
CONSOLE = "console"
HOST = "127.0.0.1"
# Every consumer's fetch names each partition of each of its topics, and Tansu works through all of them on every
# fetch: two partitions (enough for two members of a group to share) cost it half the idle CPU that four did
# (README, "Settings only the embedded servers get").
TOPIC_PARTITIONS = 2
READY_TIMEOUT_S = 60.0
API_KEY_TENANT = "dev-agency"
SMS_ACCOUNT_SID = "AC" + "de7" * 10 + "00"  # the local provider's account; any AC… id would do
SMS_FROM = "+447700900000"  # a number set aside for drama and tests (Ofcom), never a real subscriber's
DEMO_AGENCY = {"name": "Demo Travel Co.", "support_phone": "+44 20 7946 0000", "support_email": "help@agency.example",
               "emergency_phone": "+44 20 7946 0999", "messaging": "WeChat: demotravel"}


class StackError(RuntimeError):
    """The stack could not be started (port busy, a process died, a service never became ready)."""


def port_env_var(name: str) -> str:
    return f"STACK_{name.upper()}_PORT"


def ports_from_env(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """The default ports, each overridable by ``STACK_<NAME>_PORT``."""
    environ = os.environ if environ is None else environ
    ports = {}
    for name, default in DEFAULT_STACK_PORTS.items():
        raw = environ.get(port_env_var(name), "").strip()
        try:
            ports[name] = int(raw) if raw else default
        except ValueError:
            raise StackError(f"{port_env_var(name)}={raw!r} is not a port number") from None
    return ports


def tenants_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The agencies the local stack gets a development key for: ``STACK_TENANTS=dev-agency,second-agency``."""
    environ = os.environ if environ is None else environ
    names = [name.strip() for name in environ.get("STACK_TENANTS", "").split(",") if name.strip()]
    return tuple(dict.fromkeys(names)) or (API_KEY_TENANT,)


def ensure_dev_api_keys(var_dir: Path, tenants: Iterable[str] = (API_KEY_TENANT,)) -> dict[str, str]:
    """A development key per agency, kept across runs (var/dev-api-keys.json; the first agency's also in
    var/dev-api-key.txt), merged into var/api-keys.json, the file the services read (API_KEYS_FILE). Keys made
    there with ``python -m trip_shared.api_keys`` are kept."""
    var_dir.mkdir(parents=True, exist_ok=True)
    tenants = list(tenants)
    store = var_dir / "dev-api-keys.json"
    keys: dict[str, str] = json.loads(store.read_text()) if store.exists() else {}
    legacy = var_dir / "dev-api-key.txt"
    if legacy.exists() and API_KEY_TENANT not in keys:
        keys[API_KEY_TENANT] = legacy.read_text().strip()
    for tenant in tenants:
        keys.setdefault(tenant, "dev_" + secrets.token_urlsafe(32))
    api_keys.write_entries(store, keys)
    legacy.write_text(keys[tenants[0]] + "\n")
    for secret_file in (store, legacy):
        with contextlib.suppress(OSError):
            secret_file.chmod(0o600)
    key_file = var_dir / "api-keys.json"
    kept = [entry for entry in api_keys.read_entries(key_file) if entry.get("source") != "devstack"]
    managed = [{"id": f"dev-{tenant}", "name": "dev", "tenant_id": tenant, "scopes": ["*"],
                "key_sha256": hash_key(keys[tenant]), "source": "devstack"} for tenant in tenants]
    api_keys.write_entries(key_file, managed + kept)
    return {tenant: keys[tenant] for tenant in tenants}


def ensure_secret(var_dir: Path, name: str) -> str:
    """A secret of the local stack (the one signing client links, the one deriving suppliers' webhook secrets),
    generated on first use and kept across runs."""
    secret_file = var_dir / name
    secret = secret_file.read_text().strip() if secret_file.exists() else ""
    if not secret:
        secret = secrets.token_urlsafe(32)
        secret_file.write_text(secret + "\n")
        with contextlib.suppress(OSError):
            secret_file.chmod(0o600)
    return secret


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """HTTP status of GET ``url``, or None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - local URLs only
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


class EmbeddedStack:
    """The platform as subprocesses: embedded infrastructure plus the five services.

    :param var_dir: where data, logs, the API key and stack.json go.
    :param ports: name -> port for any of ``DEFAULT_STACK_PORTS``' names; ``None`` picks free ports for all.
        Names missing from a given dict get a free port.
    :param extra_env: added to (and overriding) every service's environment.
    :param ephemeral: keep MongoDB data in memory only.
    :param kafka_bootstrap: use this Kafka instead of starting Tansu.
    :param mongodb_url: use this MongoDB instead of starting SecantusDB.
    :param services: which services to run (default: all five).
    :param tenants: the agencies that get a development API key (the first is ``api_key``).
    :param console: also run the ops console (trip_shared.ops_console), which then receives the services' spans
        unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` sends them elsewhere.
    """

    def __init__(
        self,
        var_dir: str | os.PathLike[str],
        ports: Mapping[str, int] | None = None,
        extra_env: Mapping[str, str] | None = None,
        *,
        ephemeral: bool = False,
        kafka_bootstrap: str | None = None,
        mongodb_url: str | None = None,
        services: Iterable[str] = SERVICES,
        tenants: Iterable[str] = (API_KEY_TENANT,),
        ready_timeout: float = READY_TIMEOUT_S,
        console: bool = True,
        python: str = sys.executable,
        log: Any = None,
    ) -> None:
        self.var_dir = Path(var_dir).resolve()
        self.log_dir = self.var_dir / "logs"
        self.maildir = self.var_dir / "maildir"
        self.sms_log = self.var_dir / "sms.jsonl"
        self.mongo_storage = ":memory:" if ephemeral else str(self.var_dir / "mongo")
        self.extra_env = dict(extra_env or {})
        self.kafka_bootstrap_override = kafka_bootstrap or None
        self.mongodb_url_override = mongodb_url or None
        self.services = tuple(services)
        unknown = set(self.services) - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown services: {sorted(unknown)}")
        self.ready_timeout = ready_timeout
        self.console = console
        self.python = python
        self._log = log or (lambda msg: None)
        given = dict(ports) if ports is not None else {}
        unknown_ports = set(given) - set(DEFAULT_STACK_PORTS)
        if unknown_ports:
            raise ValueError(f"unknown port names: {sorted(unknown_ports)}")
        self._explicit_ports = set(given)
        self.ports: dict[str, int] = {name: given.get(name) or 0 for name in DEFAULT_STACK_PORTS}
        self.tenants = tuple(tenants)
        self.api_keys: dict[str, str] = {}
        self.link_secret: str = ""
        self.supplier_key: str = ""
        self.kafka: embedded.KafkaServer | None = None
        self.mongodb: embedded.MongoServer | None = None
        self.smtp: embedded.SmtpSink | None = None
        self.sms: embedded.SmsProvider | None = None
        self.sms_token: str = ""
        self.processes: dict[str, ManagedProcess] = {}
        self._lock = threading.RLock()
        self._started = False

    @property
    def api_key(self) -> str:
        """The first agency's development key."""
        return self.api_keys.get(self.tenants[0], "")

    # ------------------------------------------------------------------ addresses

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka_bootstrap_override or f"{HOST}:{self.ports['kafka']}"

    @property
    def mongodb_url(self) -> str:
        return self.mongodb_url_override or f"mongodb://{HOST}:{self.ports['mongodb']}/?retryWrites=false"

    @property
    def smtp_address(self) -> str:
        return f"{HOST}:{self.ports['smtp']}"

    def service_url(self, name: str) -> str:
        return f"http://{HOST}:{self.ports[name]}"

    @property
    def stack_info(self) -> dict[str, Any]:
        """What var/stack.json holds."""
        return {
            "services": {name: self.service_url(name) for name in self.services},
            **({"console": self.service_url(CONSOLE)} if self.console else {}),
            "api_key": self.api_key,
            "api_keys": dict(self.api_keys),
            "kafka": self.kafka_bootstrap,
            "mongodb": self.mongodb_url,
            "smtp": self.smtp_address,
            "maildir": str(self.maildir),
            "sms": f"http://{HOST}:{self.ports['sms']}",
            "sms_log": str(self.sms_log),
            "logs": str(self.log_dir),
        }

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def service_env(self, name: str) -> dict[str, str]:
        """The full environment service ``name`` runs with."""
        env = dict(os.environ)
        env.update(
            {
                "SERVICE_HOST": HOST,
                "SERVICE_PORT": str(self.ports[name]),
                "PUBLIC_BASE_URL": self.service_url(name),
                "ITINERARY_PUBLIC_URL": self.service_url("itinerary"),
                "NOTIFY_PUBLIC_URL": self.service_url("notify"),
                "FEEDBACK_PUBLIC_URL": self.service_url("feedback"),
                "MONGODB_URL": self.mongodb_url,
                "MONGODB_DATABASE": name,
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
                "KAFKA_TOPIC_PARTITIONS": str(TOPIC_PARTITIONS),
                # Each service re-creates any missing topic (and its .dlq twin) when the embedded broker comes
                # back empty; the stack has created them all before the services start.
                "KAFKA_CREATE_TOPICS": "true",
                "KAFKA_SESSION_TIMEOUT_MS": "2000",
                "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
                # Tansu holds every fetch its whole wait: 50 ms keeps a hop quick without the idle polling of
                # shorter waits costing a core (README, "Settings only the embedded servers get").
                **({} if self.kafka_bootstrap_override else {"KAFKA_FETCH_MAX_WAIT_MS": "50"}),
                "API_KEYS_FILE": str(self.var_dir / "api-keys.json"),
                "LINK_SIGNING_SECRET": self.link_secret,
                "SUPPLIER_SECRET_KEY": self.supplier_key,
                "SMTP_HOST": HOST,
                "SMTP_PORT": str(self.ports["smtp"]),
                "SMS_API_URL": f"http://{HOST}:{self.ports['sms']}",
                "SMS_ACCOUNT_SID": SMS_ACCOUNT_SID,
                "SMS_AUTH_TOKEN": self.sms_token,
                "SMS_FROM": SMS_FROM,
                # The local agency's name and support contacts, for what clients see (trip_shared.agency).
                "AGENCY_PROFILES": os.environ.get("AGENCY_PROFILES") or json.dumps({API_KEY_TENANT: DEMO_AGENCY}),
                "LOG_LEVEL": os.environ.get("LOG_LEVEL") or "INFO",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.console and not env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = self.service_url(CONSOLE)  # one flow's spans, on the console
        env.pop("API_KEYS", None)  # the stack's key file is the one source of keys
        env.update(self.extra_env)
        return env

    def console_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({f"{name.upper()}_URL": self.service_url(name) for name in SERVICES})
        env.update({"OPS_CONSOLE_HOST": HOST, "OPS_CONSOLE_PORT": str(self.ports[CONSOLE]),
                    # Local and plain http: the cookie is still HttpOnly and SameSite=Strict.
                    "OPS_CONSOLE_SECURE_COOKIE": "false", "PYTHONUNBUFFERED": "1"})
        if not (self.extra_env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")):
            env["OPS_CONSOLE_RECEIVE_SPANS"] = "true"
        if self.extra_env.get("TRACE_UI_URL"):
            env["TRACE_UI_URL"] = self.extra_env["TRACE_UI_URL"]
        return env

    # ------------------------------------------------------------------ lifecycle

    def _assign_ports(self) -> None:
        needed = list(self.services) + ["smtp", "sms"] + ([CONSOLE] if self.console else [])
        if not self.kafka_bootstrap_override:
            needed.append("kafka")
        if not self.mongodb_url_override:
            needed.append("mongodb")
        taken: set[int] = set()
        for name in needed:
            port = self.ports[name]
            if not port:
                port = embedded.free_port(HOST)
                while port in taken:
                    port = embedded.free_port(HOST)
                self.ports[name] = port
            elif not embedded.port_is_free(port, HOST):
                raise StackError(
                    f"Port {port} ({name}) on {HOST} is already in use by another process (which one is "
                    f"unknown to devstack; perhaps a previous stack is still running — `ss -ltnp | grep {port}` "
                    f"tells). Stop it, or choose another port: {port_env_var(name)}=<port>."
                )
            if port in taken:
                raise StackError(f"Port {port} is assigned twice (to {name} and another component).")
            taken.add(port)

    def start(self) -> EmbeddedStack:
        """Start everything and wait until every service is ready. On failure, stops what it started."""
        with self._lock:
            if self._started:
                return self
            self._started = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.var_dir / "stack.json").unlink(missing_ok=True)
        self._assign_ports()
        self.api_keys = ensure_dev_api_keys(self.var_dir, self.tenants)
        self.link_secret = ensure_secret(self.var_dir, "link-signing-secret.txt")
        self.supplier_key = ensure_secret(self.var_dir, "supplier-secret-key.txt")
        self.sms_token = ensure_secret(self.var_dir, "sms-auth-token.txt")

        t0 = time.monotonic()
        if self.kafka_bootstrap_override:
            self._log(f"using Kafka at {self.kafka_bootstrap} (KAFKA_BOOTSTRAP_SERVERS)")
            embedded.wait_for_kafka(self.kafka_bootstrap, timeout=30)
        else:
            self.kafka = embedded.start_kafka(self.ports["kafka"], self.log_dir)
            self._log(f"kafka (tansu)      {self.kafka_bootstrap}")
        if self.mongodb_url_override:
            self._log(f"using MongoDB at {self.mongodb_url} (MONGODB_URL)")
            self._wait_mongo(self.mongodb_url)
        else:
            self.mongodb = embedded.start_mongodb(self.ports["mongodb"], self.mongo_storage, self.log_dir)
            self._log(f"mongodb (secantus) {self.mongodb_url}  storage: {self.mongo_storage}")
        self.smtp = embedded.start_smtp_sink(self.ports["smtp"], self.maildir, self.log_dir)
        self._log(f"smtp sink          {self.smtp_address}  maildir: {self.maildir}")
        self.sms = embedded.start_sms_provider(self.ports["sms"], SMS_ACCOUNT_SID, self.sms_token, self.sms_log,
                                               self.log_dir)
        self._log(f"sms provider       {self.sms.url}  texts: {self.sms_log}")

        from trip_shared.contracts.registry import all_topic_names, topic_configs

        created = embedded._run_async(
            lambda: embedded.ensure_topics(self.kafka_bootstrap, all_topic_names(), TOPIC_PARTITIONS,
                                           configs=topic_configs())
        )
        self._log(f"topics             {len(all_topic_names())} ({len(created)} created)")

        if self.console:  # first: it takes the services' spans from their start
            self.processes[CONSOLE] = embedded.start_process(
                CONSOLE, [self.python, "-m", "trip_shared.ops_console"], self.log_dir, env=self.console_env(),
                cwd=self.var_dir)
            self._wait_ready(CONSOLE, path="/healthz")
            self._log(f"{'ops console':<18} {self.service_url(CONSOLE)}")
        for name in self.services:
            self._spawn_service(name)
        for name in self.services:
            self._wait_ready(name)
            self._log(f"{name:<18} {self.service_url(name)}  ready")
        self._log(f"stack up in {time.monotonic() - t0:.1f} s")
        self._write_stack_json()

    @staticmethod
    def _wait_mongo(url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                embedded.mongo_ping(url)
                return
            except Exception as exc:  # noqa: BLE001
                if time.monotonic() > deadline:
                    raise StackError(f"MongoDB at {url} did not answer a ping within {timeout:.0f} s: {exc!r}") from exc
                time.sleep(0.2)

    def _write_stack_json(self) -> None:
        path = self.var_dir / "stack.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.stack_info, indent=2) + "\n")
        os.replace(tmp, path)

    def _spawn_service(self, name: str) -> ManagedProcess:
        with self._lock:
            current = self.processes.get(name)
            if current is not None and current.alive:
                raise StackError(f"service {name} is already running (pid {current.pid})")
            proc = embedded.start_process(
                name, [self.python, "-m", name], self.log_dir, env=self.service_env(name), cwd=self.var_dir
            )
            self.processes[name] = proc
            return proc

    def _wait_ready(self, name: str, timeout: float | None = None, path: str = "/readyz") -> None:
        proc = self.processes[name]
        url = self.service_url(name) + path
        timeout = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        last: int | None = None
        while True:
            if not proc.alive:
                raise StackError(
                    f"service {name} exited with code {proc.returncode} before it was ready; "
                    f"see {proc.log_path}\n--- last lines of {proc.log_path} ---\n{proc.log_tail()}"
                )
            last = http_status(url, timeout=2.0)
            if last == 200:
                return
            if time.monotonic() > deadline:
                state = "no answer" if last is None else f"HTTP {last}"
                raise StackError(
                    f"service {name} was not ready after {timeout:.0f} s ({url}: {state}); "
                    f"see {proc.log_path}\n--- last lines of {proc.log_path} ---\n{proc.log_tail()}"
                )
            time.sleep(0.2)

    def restart_kafka(self) -> None:
        """Kill the embedded broker and start an empty one on the same port (topics, offsets and groups gone), as
        a crash of the memory-only broker would. The services must notice and recover on their own."""
        if self.kafka is None:
            raise StackError("this stack uses an external Kafka; it cannot restart it")
        self.kafka.stop(kill=True)
        self.kafka = embedded.start_kafka(self.ports["kafka"], self.log_dir)

    def restart_mongodb(self, down_s: float = 0.0) -> None:
        """Kill the embedded database (SIGKILL, mid-write as it may be) and start it again on its files."""
        if self.mongodb is None:
            raise StackError("this stack uses an external MongoDB; it cannot restart it")
        if self.mongo_storage == ":memory:":
            raise StackError("an ephemeral stack keeps MongoDB in memory: a restart would lose everything")
        self.mongodb.stop(kill=True)
        time.sleep(down_s)
        self.mongodb = embedded.start_mongodb(self.ports["mongodb"], self.mongo_storage, self.log_dir)

    def start_service(self, name: str, timeout: float | None = None) -> None:
        """(Re)start service ``name`` on its port and wait until its /readyz answers 200."""
        if name not in self.services:
            raise ValueError(f"{name} is not part of this stack")
        self._spawn_service(name)
        try:
            self._wait_ready(name, timeout)
        except BaseException:
            self.processes[name].stop()
            raise

    def stop_service(self, name: str, kill: bool = False, timeout: float = 15.0) -> int | None:
        """Stop service ``name``: SIGTERM and wait (SIGKILL after ``timeout``), or SIGKILL at once if ``kill``."""
        proc = self.processes.get(name)
        if proc is None:
            return None
        return proc.stop(timeout=timeout, kill=kill)

    def service_alive(self, name: str) -> bool:
        proc = self.processes.get(name)
        return proc is not None and proc.alive

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the services (SIGTERM, all at once, then wait), then SMTP, MongoDB, Kafka. Idempotent."""
        with self._lock:
            procs = list(self.processes.values())
            for proc in procs:
                proc.signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            for proc in procs:
                proc.stop(timeout=max(0.1, deadline - time.monotonic()))
            for handle in (self.sms, self.smtp, self.mongodb, self.kafka):
                if handle is not None:
                    handle.stop(timeout=10)
            (self.var_dir / "stack.json").unlink(missing_ok=True)
            self._started = False

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ------------------------------------------------------------------------------------------------ CLI


def _summary(stack: EmbeddedStack) -> str:
    info = stack.stack_info
    width = max(len(n) for n in info["services"]) + 2
    lines = ["", "Trip-coordination stack is up.", "", "Services:"]
    for name, url in info["services"].items():
        lines.append(f"  {name:<{width}}{url}   (docs: {url}/docs)")
    if "console" in info:
        lines += ["", f"Ops console: {info['console']}   (sign in with the API key below: what is stuck, each "
                      "trip's events and deliveries, their traces)"]
    lines += [
        "",
        *[f"API key:    {key}   (tenant {tenant})" for tenant, key in info["api_keys"].items()],
        f"            (stored in {stack.var_dir / 'dev-api-keys.json'}; more: python -m trip_shared.api_keys)",
        "",
        f"Kafka:      {info['kafka']}",
        f"MongoDB:    {info['mongodb']}",
        f"SMTP sink:  {info['smtp']}   mails land in {info['maildir']}",
        f"SMS:        {info['sms']}   texts land in {info['sms_log']}",
        f"Logs:       {info['logs']}/<name>.log",
        f"Stack info: {stack.var_dir / 'stack.json'}",
        "",
        "Try:",
        f'  curl -H "Authorization: Bearer {info["api_key"]}" '
        f'"{info["services"].get("customers", "")}/v1/customers?q="',
        "",
        "Press Ctrl-C to stop.",
        "",
    ]
    return "\n".join(lines)


class _Shutdown(Exception):
    pass


def cmd_up(args: argparse.Namespace) -> int:
    def say(msg: str) -> None:
        print(f"[devstack] {msg}", flush=True)

    try:
        ports = ports_from_env()
    except StackError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 2
    stack = EmbeddedStack(
        args.var_dir,
        ports=ports,
        ephemeral=args.ephemeral,
        tenants=tenants_from_env(),
        kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or None,
        mongodb_url=os.environ.get("MONGODB_URL") or None,
        log=say,
    )

    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        if stopping:
            return  # already shutting down; finish cleanly
        stopping = True
        raise _Shutdown(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    with contextlib.suppress(AttributeError):
        signal.signal(signal.SIGHUP, on_signal)

    code = 0
    try:
        say(f"starting in {stack.var_dir}")
        stack.start()
        print(_summary(stack), flush=True)
        reported: set[str] = set()
        while True:
            time.sleep(0.5)
            for name, proc in list(stack.processes.items()):
                if not proc.alive and name not in reported:
                    reported.add(name)
                    say(f"WARNING: service {name} exited with code {proc.returncode}; see {proc.log_path}")
            for handle in (stack.kafka, stack.mongodb, stack.smtp, stack.sms):
                if handle is not None and not handle.alive and handle.name not in reported:
                    reported.add(handle.name)
                    say(f"WARNING: {handle.name} exited with code {handle.returncode}; see {handle.log_path}")
    except _Shutdown as exc:
        stopping = True
        say(f"{exc.args[0]} received, stopping...")
    except (StackError, EmbeddedStartError) as exc:
        stopping = True
        print(f"\ndevstack: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        stopping = True
        stack.stop()  # idempotent: start() already stops on failure
    say("stopped.")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trip_shared.devstack", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the whole stack in the foreground (Ctrl-C stops it)")
    up.add_argument("--var-dir", default="var", help="data, logs and key directory (default: ./var)")
    up.add_argument("--ephemeral", action="store_true", help="keep MongoDB data in memory only")
    args = parser.parse_args(argv)
    if args.command == "up":
        return cmd_up(args)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
