"""What changed in a referral's case between two states (pure): one place for every reader that reports
changes outward (the referrer's status and outcomes, notices to teams), whatever caused them."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.vocabulary import Service
from services.triage.cases.case import Case, QueueItem


@dataclass(frozen=True)
class ItemChange:
    """One service's item before and after a step (`before` is None for an item the step created)."""

    service: Service
    before: QueueItem | None
    after: QueueItem

    @property
    def created(self) -> bool:
        return self.before is None

    @property
    def state_changed(self) -> bool:
        return self.before is None or self.before.state != self.after.state

    @property
    def newly_withdrawn(self) -> bool:
        return self.after.withdrawn and (self.before is None or not self.before.withdrawn)


def case_changes(before: Case | None, after: Case) -> list[ItemChange]:
    """Each item the step created or changed, in the after-case's order of services."""
    earlier = before.items if before is not None else {}
    return [
        ItemChange(service, earlier.get(service), item)
        for service, item in after.items.items()
        if earlier.get(service) != item
    ]
