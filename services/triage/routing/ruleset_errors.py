"""One-sentence errors for a ruleset that cannot be used, naming the rule (or section) and the field."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class RulesetError(ValueError):
    """A ruleset that cannot be used; the message is one sentence naming the rule and the field."""


def from_validation_error(exc: ValidationError, raw: dict[str, Any], origin: str) -> RulesetError:
    """The first problem pydantic found, said in the rule author's terms."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    where, field = _place(tuple(first["loc"]), raw)
    message = str(first["msg"]).removeprefix("Value error, ")
    others = len(errors) - 1
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    parts = [f"ruleset {origin}", *([where] if where else []), *([f"field '{field}'"] if field else []), message + more]
    return RulesetError(": ".join(parts))


def _place(loc: tuple[int | str, ...], raw: dict[str, Any]) -> tuple[str | None, str]:
    """(the rule or section, the dotted field inside it) for a pydantic error location.

    The field is empty when a check across fields failed: its message then names the fields.
    """
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        return _rule_name(raw, loc[1]), _dotted(loc[2:])
    if len(loc) >= 2 and loc[0] == "overrides":
        return f"override '{loc[1]}'", _dotted(loc[2:])
    return None, _dotted(loc)


def _rule_name(raw: dict[str, Any], index: int) -> str:
    rules = raw.get("rules")
    rule = rules[index] if isinstance(rules, list) and index < len(rules) else None
    rule_id = rule.get("id") if isinstance(rule, dict) else None
    if isinstance(rule_id, str) and rule_id:
        return f"rule '{rule_id[:64]}'"
    return f"rule number {index + 1}"


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)
