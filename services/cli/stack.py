"""The whole system on the embedded broker: broker, topics, mail sink and each service as a process."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.cli.mail_sink import MailSink
from services.cli.processes import ServiceProcess
from services.cli.supervisor import RestartPolicy, Supervisor
from services.common.access import load_access
from services.common.broker import EmbeddedBroker, create_topics, free_port
from services.common.settings import DEV_CONFIG
from services.common.topics import all_topics
from services.triage.read.database import sqlite_file


@dataclass
class Stack:
    """Starts in dependency order and stops everything it started, whatever happened in between.

    With `supervise=True`, a worker that exits after start-up is started again (see `Supervisor`);
    `restarts` counts them per service. Workers stopped or killed through their `ServiceProcess` are not.
    """

    workdir: Path
    services: tuple[str, ...] = ("intake", "triage", "notify")
    partitions: int = 4
    ports: dict[str, int] = field(default_factory=dict)
    broker_port: int = 0
    smtp_port: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    broker: EmbeddedBroker | None = None
    mail_sink: MailSink | None = None
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    supervise: bool = False
    restart_policy: RestartPolicy = field(default_factory=RestartPolicy)
    report: Callable[[str], None] | None = None
    """Where the supervisor says what it restarts (one line each); nowhere by default."""
    supervisor: Supervisor | None = None

    @property
    def restarts(self) -> Counter[str]:
        return self.supervisor.restarts if self.supervisor is not None else Counter()

    @property
    def outbox(self) -> Path:
        return self.workdir / "outbox"

    @property
    def state(self) -> Path:
        """The workers' local table state, one directory per worker (RocksDB locks its files)."""
        return self.workdir / "state"

    def state_dir(self, worker: str) -> Path:
        return self.state / worker

    def env(self) -> dict[str, str]:
        assert self.broker is not None
        env = {
            "SOSAFE_BROKER_URL": self.broker.url,
            "SOSAFE_EMBEDDED_BROKER": "true",
            "SOSAFE_TOPIC_PARTITIONS": str(self.partitions),
            "SOSAFE_DATA_DIR": str(self.workdir / "data"),
            "SOSAFE_SMTP_PORT": str(self.smtp_port),
            "SOSAFE_SMTP_HOST": "127.0.0.1",
            "SOSAFE_CONSOLE_BASE_URL": f"http://127.0.0.1:{self.ports.get('triage', 8002)}",
        }
        for service, port in self.ports.items():
            env[f"SOSAFE_{service.upper()}_PORT"] = str(port)
        env.update(self.extra_env)
        return env

    @property
    def config_file(self) -> Path:
        """The access file the services read, whose partners each get a submission topic."""
        configured = self.extra_env.get("SOSAFE_CONFIG_FILE") or os.environ.get("SOSAFE_CONFIG_FILE")
        return Path(configured) if configured else DEV_CONFIG

    def topics(self) -> tuple[str, ...]:
        """Every topic to create: the fixed ones and one submission topic per partner of the access file."""
        return all_topics(partner.id for partner in load_access(self.config_file).partners)

    def start_broker(self) -> None:
        """A fresh embedded broker holds nothing, so the tables the workers kept on disk go with the old one."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        # The broker keeps nothing across a stop, so neither may the read model projected from it.
        shutil.rmtree(sqlite_file(self.workdir / "data").parent, ignore_errors=True)
        shutil.rmtree(self.state, ignore_errors=True)
        self.broker = EmbeddedBroker(port=self.broker_port, log_path=self.workdir / "broker.log")
        self.broker.start()
        self.broker_port = self.broker.port
        asyncio.run(create_topics(self.broker.bootstrap, self.partitions, self.topics()))

    def start(self, wait: bool = True) -> None:
        for service in self.services:
            self.ports.setdefault(service, free_port())
        try:
            self.start_broker()
            if "notify" in self.services:
                self.smtp_port = self.smtp_port or free_port()
                self.mail_sink = MailSink(self.outbox, self.smtp_port)
                self.mail_sink.start()
            for service in self.services:
                self.start_service(service, wait=False)
            if wait:
                for service in self.services:
                    self.processes[service].wait_ready()
            if self.supervise:
                self.supervisor = Supervisor(self.processes, self.restart_policy, self.report)
                self.supervisor.start()
        except BaseException:
            self.stop()
            raise

    def start_service(
        self,
        service: str,
        wait: bool = True,
        name: str | None = None,
        port: int | None = None,
        env_overrides: dict[str, str] | None = None,
    ) -> ServiceProcess:
        """Start (or restart) one worker; `name`/`port` allow a second replica of the same service, and
        `env_overrides` settings of its own (another access file, say)."""
        key = name or service
        env = {**self.env(), **(env_overrides or {})}
        env["SOSAFE_STATE_DIR"] = str(self.state_dir(key))
        if port is not None:
            env[f"SOSAFE_{service.upper()}_PORT"] = str(port)
        proc = ServiceProcess(service, env, port or self.ports[service], log_path=self.workdir / "logs" / f"{key}.log")
        proc.start()
        self.processes[key] = proc
        if wait:
            proc.wait_ready()
        return proc

    def url(self, service: str) -> str:
        return self.processes[service].base_url

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        for proc in list(self.processes.values()):
            proc.stop()
        if self.mail_sink is not None:
            self.mail_sink.stop()
            self.mail_sink = None
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
