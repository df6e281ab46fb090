"""An `Explanation` as plain text for the `sosafe rules explain` command. No personal data in it."""

from __future__ import annotations

from services.triage.routing.conditions import Outcome
from services.triage.routing.rules import Explanation, RuleFinding, RuleStatus

_MARKS = {Outcome.met: "yes", Outcome.not_met: "no ", Outcome.unknown: "?  "}


def render(explanation: Explanation) -> str:
    """Rules, overrides and the decision, one section each."""
    decision = explanation.decision
    lines = [
        f"Referral {decision.referral_id} under ruleset {explanation.ruleset_version}",
        "",
        "Rules:",
    ]
    for finding in explanation.rules:
        lines += _rule(finding)
    lines += ["", "Overrides:"]
    for note in explanation.overrides:
        lines.append(f"  [{'applied' if note.applied else 'not applied'}] {note.rule_id}: {note.detail}")
    lines += ["", f"Decision {decision.decision_id} at {decision.decided_at.isoformat()}:"]
    lines.append(f"  flags: {', '.join(decision.flags) if decision.flags else 'none'}")
    for assignment in decision.assignments:
        instead = f" (instead of {', '.join(assignment.replaces_all)})" if assignment.replaces_all else ""
        due = assignment.due_at.isoformat()
        lines.append(
            f"  -> {assignment.service}{instead}: {assignment.priority}, due {due}, "
            f"rules {', '.join(assignment.rule_ids)}"
        )
        lines += [f"       - {reason}" for reason in assignment.reasons]
    return "\n".join(lines) + "\n"


def _rule(finding: RuleFinding) -> list[str]:
    head = f"  [{finding.status}] {finding.rule_id}: {finding.description}"
    checks = [f"       {_MARKS[check.outcome]} {check.condition}" for check in finding.checks]
    if finding.status is RuleStatus.not_matched:
        return [head, *checks]
    result = f"sends to {finding.service}, {finding.priority}" if finding.service else "routes nowhere"
    if finding.status is RuleStatus.age_unknown:
        result = f"age not given: {result}"
    flags = f"; flags {', '.join(finding.flags)}" if finding.flags else ""
    return [head, *checks, f"       => {result}{flags}"]
