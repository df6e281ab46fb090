"""The `sosafe` command: one console script, one subcommand per job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="sosafe", description="SoSafe Referral Router")
    sub = root.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the whole system on the embedded broker")
    dev.add_argument("--partitions", type=int, default=4, help="partitions per topic (default 4)")
    dev.add_argument(
        "--workdir", type=Path, default=None, help="where logs, data and the mail outbox go (default var/dev)"
    )

    worker = sub.add_parser("worker", help="run one service's worker")
    worker.add_argument("service", choices=("intake", "triage", "notify"))

    rules = sub.add_parser("rules", help="check or explain a routing ruleset").add_subparsers(
        dest="rules_command", required=True
    )
    check = rules.add_parser("check", help="validate a ruleset file")
    check.add_argument("file")
    explain = rules.add_parser("explain", help="show which rules fire for a referral and why")
    explain.add_argument("referral")
    explain.add_argument("--ruleset", default=None)
    explain.add_argument("--at", default=None, help="ISO time to evaluate at (default: submitted_at)")
    whatif = rules.add_parser("diff", help="replay a period's referrals under a candidate ruleset: what would move")
    whatif.add_argument("candidate")
    whatif.add_argument("--live", default=None, help="live ruleset (default: SOSAFE_RULESET_FILE)")
    whatif.add_argument("--from", dest="start", default=None, help="first day (default: 90 days before --to)")
    whatif.add_argument("--to", dest="end", default=None, help="day after the last (default: now)")
    whatif.add_argument("--format", choices=["text", "csv", "html"], default="text")
    whatif.add_argument("--database", default=None, help="read model URL (default: as triage)")

    demo = sub.add_parser("demo", help="post synthetic referrals through intake with the dev tokens")
    demo.add_argument("--count", type=int, default=40)
    demo.add_argument("--intake-url", default="http://127.0.0.1:8001")
    demo.add_argument("--seed", type=int, default=2021)

    audit = sub.add_parser("audit", help="audit trail tools").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser("verify", help="check every audit hash chain on the broker")
    verify.add_argument("--broker", default=None, help="bootstrap host:port (default from settings)")

    report = sub.add_parser("report", help="the partnership's KPI report")
    report.add_argument("--from", dest="start", required=True)
    report.add_argument("--to", dest="end", required=True)
    report.add_argument("--format", choices=("csv", "html", "json"), default="csv")
    report.add_argument("--triage-url", default="http://127.0.0.1:8002")
    report.add_argument("--token", default="dev-manager")

    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "dev":
        from services.cli.dev import run_dev

        return run_dev(args.partitions, args.workdir)
    if args.command == "worker":
        from services.cli.worker import run_worker

        run_worker(args.service)
        return 0
    if args.command == "rules":
        from services.cli import rules

        if args.rules_command == "check":
            return rules.check(args.file)
        if args.rules_command == "diff":
            return rules.diff(args.candidate, args.live, args.start, args.end, args.format, args.database)
        return rules.explain(args.referral, args.ruleset, args.at)
    if args.command == "demo":
        from services.cli.demo import run_demo

        return run_demo(args.count, args.intake_url, args.seed)
    if args.command == "audit":
        from services.cli.audit import run_verify

        return run_verify(args.broker)
    if args.command == "report":
        from services.cli.report import run_report

        return run_report(args.start, args.end, args.format, args.triage_url, args.token)
    return 2


if __name__ == "__main__":
    sys.exit(main())
