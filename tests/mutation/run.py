"""`make mutation`: mutate the pure cores one module at a time and write each module's score to docs/quality.md.

    python tests/mutation/run.py                              # every module, from a clean ./mutants
    python tests/mutation/run.py services.triage.api.officers     # some modules; the others keep their last row

mutmut (configured under [tool.mutmut] in pyproject.toml) runs the unit tests named there, never a broker.
Each module's mutants run on one core (MUTATION_JOBS to change it): the machine is shared. A module's log
is kept in var/mutation/. Only the lines between the markers in docs/quality.md are rewritten.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
QUALITY = ROOT / "docs" / "quality.md"
LOGS = ROOT / "var" / "mutation"
BEGIN, END = "<!-- mutation-scores:begin -->", "<!-- mutation-scores:end -->"
TARGET = 0.90

MODULES = {
    "services.triage.routing.conditions": "routing conditions",
    "services.triage.routing.overrides": "overrides",
    "services.triage.api.officers": "officers' scope",
    "services.common.redaction": "redaction",
    "services.intake.admission": "admission",
    "services.triage.cases.case": "queue items and decisions into them",
    "services.triage.cases.queue": "queue transitions (officer actions, breaches, views)",
}
"""The pure cores measured, in the order they run; each must also be listed in [tool.mutmut] only_mutate."""

# mutmut's exit codes for one mutant (mutmut.__main__.status_by_exit_code), folded into what the score needs.
KILLED = {1, 3, 37}
TIMEOUT = {-24, 24, 36, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}
SKIPPED = {34}


@dataclass(frozen=True)
class Score:
    module: str
    total: int
    killed: int
    timeout: int
    survived: list[str]
    no_tests: list[str]
    other: list[str]
    skipped: int
    seconds: float
    finished: str

    @property
    def counted(self) -> int:
        return self.total - self.skipped

    @property
    def score(self) -> float:
        """Mutants detected (failed a test, or hung) over mutants run; one with no test counts as survived."""
        return (self.killed + self.timeout) / self.counted if self.counted else 1.0


def run_module(module: str, jobs: int) -> float:
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with (LOGS / f"{module}.log").open("w") as log:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("mutmut")), "run", "--max-children", str(jobs), f"{module}.*"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        sys.exit(f"mutmut failed on {module} (exit {done.returncode}); see {LOGS / f'{module}.log'}")
    return time.monotonic() - started


def score_of(module: str, seconds: float) -> Score:
    meta = ROOT / "mutants" / (module.replace(".", "/") + ".py.meta")
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]

    def named(status: set[int]) -> list[str]:
        return sorted(n for n, c in codes.items() if c in status)

    known = KILLED | TIMEOUT | SURVIVED | NO_TESTS | SKIPPED
    return Score(
        module=module,
        total=len(codes),
        seconds=seconds,
        finished=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        killed=sum(c in KILLED for c in codes.values()),
        timeout=sum(c in TIMEOUT for c in codes.values()),
        survived=named(SURVIVED),
        no_tests=named(NO_TESTS),
        skipped=sum(c in SKIPPED for c in codes.values()),
        other=sorted(n for n, c in codes.items() if c not in known),
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
    return (
        f"{cpu}, {os.cpu_count()} cores (shared), {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}"
    )


def table(rows_by_module: dict[str, dict[str, Any]], jobs: int) -> str:
    rows = [
        f"mutmut {version('mutmut')}, {jobs} worker(s), on {machine()}.",
        "",
        "| module | what it holds | mutants | killed | timed out | survived | no test | score | time | measured |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for module in MODULES:
        if (r := rows_by_module.get(module)) is None:
            continue
        rows.append(
            f"| `{module}` | {MODULES[module]} | {r['counted']} | {r['killed']} | {r['timeout']} | {r['survived']} | "
            f"{r['no_tests']} | {r['score']:.1%}{'' if r['score'] >= TARGET else ' (below target)'} | "
            f"{r['seconds']:.0f} s | {r['measured']} |"
        )
    return "\n".join(rows)


def recorded(scores: list[Score]) -> dict[str, dict[str, Any]]:
    """Each module's latest result: this run's, else the one kept in var/mutation/ from an earlier run."""
    path = LOGS / "scores.json"
    kept: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.exists() else {}
    for s in scores:
        kept[s.module] = {
            "counted": s.counted,
            "killed": s.killed,
            "timeout": s.timeout,
            "survived": len(s.survived),
            "no_tests": len(s.no_tests),
            "score": s.score,
            "seconds": s.seconds,
            "measured": s.finished,
        }
    path.write_text(json.dumps(kept, indent=1))
    return kept


def write_quality(text: str) -> None:
    current = QUALITY.read_text() if QUALITY.exists() else f"# Quality\n\n{BEGIN}\n{END}\n"
    if BEGIN not in current or END not in current:
        sys.exit(f"{QUALITY} has lost its markers {BEGIN} / {END}")
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    QUALITY.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main(argv: list[str]) -> int:
    chosen = argv or list(MODULES)
    unknown = [m for m in chosen if m not in MODULES]
    if unknown:
        sys.exit(f"not a measured module: {', '.join(unknown)}; choose from {', '.join(MODULES)}")
    jobs = int(os.environ.get("MUTATION_JOBS", "1"))
    if not argv:  # a full run starts clean, so no result is carried over from older code or tests
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        (LOGS / "scores.json").unlink(missing_ok=True)
    scores = []
    for module in chosen:
        print(f"mutating {module} ...", flush=True)
        scores.append(score_of(module, run_module(module, jobs)))
        s = scores[-1]
        print(f"  {s.score:.1%} of {s.counted} mutants detected in {s.seconds:.0f} s", flush=True)
        for name in s.survived + s.no_tests + s.other:
            print(f"  survived: {name}   (mutmut show {name})")
    write_quality(table(recorded(scores), jobs))
    print(f"\nscores written to {QUALITY.relative_to(ROOT)}" + (" (other modules: their last run)" if argv else ""))
    return 0 if all(s.score >= TARGET for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
