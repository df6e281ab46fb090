"""The supervisor restarts workers that exit, with a back-off, and leaves alone those stopped on purpose."""

from __future__ import annotations

from dataclasses import dataclass

from services.cli.supervisor import RestartPolicy, Supervisor, describe_exit


@dataclass
class FakeWorker:
    """A worker whose exit the test decides; `restart()` makes it run again."""

    code: int | None = None
    started: int = 1

    def exit_code(self) -> int | None:
        return self.code

    def restart(self) -> None:
        self.code = None
        self.started += 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def supervised(
    workers: dict[str, FakeWorker], policy: RestartPolicy | None = None
) -> tuple[Supervisor, Clock, list[str]]:
    clock, said = Clock(), []
    supervisor = Supervisor(workers, policy or RestartPolicy(), said.append, clock)
    supervisor.check()
    return supervisor, clock, said


def test_the_back_off_doubles_from_one_second_up_to_thirty() -> None:
    """1, 2, 4, 8, 16, 30, 30 s for the first to seventh exit in a row."""
    assert [RestartPolicy().delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_worker_that_exits_is_restarted_after_the_first_delay_and_counted() -> None:
    """Not before the delay has passed; once after it; said in two lines."""
    triage = FakeWorker()
    supervisor, clock, said = supervised({"triage": triage})
    triage.code = 3
    supervisor.check()
    clock.now += 0.9
    supervisor.check()
    assert triage.started == 1 and supervisor.restarts["triage"] == 0
    clock.now += 0.1
    supervisor.check()
    assert triage.started == 2 and supervisor.restarts["triage"] == 1
    assert said == ["triage exited with code 3; restarting it in 1 s", "triage restarted (1 restart(s) so far)"]


def test_a_worker_that_keeps_exiting_waits_longer_each_time() -> None:
    """Exits in quick succession wait 1, 2, then 4 s."""
    notify = FakeWorker()
    supervisor, clock, said = supervised({"notify": notify})
    for delay in (1, 2, 4):
        notify.code = 1  # at once after each restart
        supervisor.check()
        clock.now += delay
        supervisor.check()
    assert supervisor.restarts["notify"] == 3
    assert [line for line in said if "exited" in line] == [
        f"notify exited with code 1; restarting it in {n} s" for n in (1, 2, 4)
    ]


def test_a_worker_that_ran_stably_is_restarted_after_the_first_delay_again() -> None:
    """After a minute of running, the next exit waits 1 s, not the doubled delay."""
    intake = FakeWorker()
    supervisor, clock, said = supervised({"intake": intake})
    for _ in range(2):
        intake.code = 1
        supervisor.check()
        clock.now += 5
        supervisor.check()
    clock.now += 61
    intake.code = -9
    supervisor.check()
    assert said[-1] == "intake exited with signal SIGKILL; restarting it in 1 s"


def test_a_worker_stopped_on_purpose_is_not_restarted() -> None:
    """`stop()` or `kill()` through the ServiceProcess leaves no exit code to act on."""
    triage = FakeWorker()
    supervisor, clock, said = supervised({"triage": triage})
    clock.now += 100
    supervisor.check()
    assert triage.started == 1 and said == []


def test_a_worker_replaced_by_hand_is_watched_afresh() -> None:
    """A pending restart of the old worker does not fall on the one that replaced it."""
    workers = {"triage": FakeWorker()}
    supervisor, clock, _ = supervised(workers)
    workers["triage"].code = 1
    supervisor.check()
    workers["triage"] = replacement = FakeWorker()
    clock.now += 2
    supervisor.check()
    assert replacement.started == 1 and supervisor.restarts["triage"] == 0


def test_exits_are_described_by_code_or_signal() -> None:
    assert (describe_exit(2), describe_exit(-15), describe_exit(-200)) == ("code 2", "signal SIGTERM", "signal 200")


@dataclass
class UnstartableWorker(FakeWorker):
    """Exited, and cannot be started again (say the interpreter was removed)."""

    def restart(self) -> None:
        raise FileNotFoundError(2, "No such file or directory")


def test_a_restart_that_fails_is_said_and_tried_again_later() -> None:
    """The failure counts as another exit: the next try waits twice as long, and nothing is counted."""
    worker = UnstartableWorker()
    supervisor, clock, said = supervised({"notify": worker})
    worker.code = 1
    supervisor.check()
    clock.now += 1
    supervisor.check()
    assert supervisor.restarts["notify"] == 0
    assert said[-1] == "notify could not be started again (No such file or directory); restarting it in 2 s"
