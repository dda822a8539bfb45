from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from domain.base import Entity
from domain.enums import ContractKind, ContractStatus
from domain.errors import Conflict, ValidationError, ref
from domain.money import Money

REASON_MAX = 2000
# How many days before its end a contract is announced as expiring (ContractExpiring), by default.
NOTICE_DAYS = 30


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    days_in_month = [
        31,
        29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return date(year, month, min(start.day, days_in_month))


@dataclass(kw_only=True)
class Contract(Entity):
    """One sold quote item: a purchase (ONE_TIME) or a period of service (TIME_BASED)."""

    account_id: int
    opportunity_id: int
    name: str
    kind: ContractKind
    quantity: Decimal
    value: Money
    starts_on: date
    ends_on: date | None = None
    product_id: int | None = None
    quote_item_id: int | None = None
    category: str | None = None  # a key of the contract categories (its product's, when it was sold)
    status: ContractStatus = ContractStatus.ACTIVE
    # Cancelled (or terminated early) on this date, and why; set by cancelContract.
    cancelled_on: date | None = None
    cancel_reason: str | None = None
    # The end date the "expiring" notice was given for (a renewal moves the end, so a new notice is due).
    expiry_noticed_for: date | None = None

    def __post_init__(self) -> None:
        self.kind = ContractKind(self.kind)
        if self.category is not None:
            self.category = str(getattr(self.category, "value", self.category))
        self.status = ContractStatus(self.status)
        if self.kind is ContractKind.TIME_BASED and self.ends_on is None:
            raise ValidationError("endsOn", "a time-based contract has an end")
        if self.kind is ContractKind.ONE_TIME and self.ends_on is not None:
            raise ValidationError("endsOn", "a one-time contract has no end")
        if self.ends_on is not None and self.ends_on <= self.starts_on:
            raise ValidationError("endsOn", "ends before it starts")
        if self.cancel_reason is not None and len(self.cancel_reason) > REASON_MAX:
            raise ValidationError("reason", f"is longer than {REASON_MAX} characters")

    @property
    def ends_at(self) -> datetime | None:
        """The instant its service is over: a date ends at 00:00 UTC of the next day (as an opportunity's
        expected close date does). None for a one-time purchase, which never expires."""
        return end_of_day(self.ends_on) if self.ends_on is not None else None

    def is_over(self, now: datetime) -> bool:
        """Active, and its end has come: the scheduler turns it EXPIRED (CANCELLED when it was terminated)."""
        ends = self.ends_at
        return self.status is ContractStatus.ACTIVE and ends is not None and ends <= now

    def notice_at(self, days: int) -> datetime | None:
        """When an active time-based contract is announced as expiring: `days` before its end, once per end
        date (None when that notice was given, or it is not active)."""
        ends = self.ends_at
        if self.status is not ContractStatus.ACTIVE or ends is None or self.expiry_noticed_for == self.ends_on:
            return None
        return ends - timedelta(days=days)

    def ensure_time_based(self, what: str) -> None:
        if self.kind is not ContractKind.TIME_BASED:
            raise ValidationError("id", f"only a time-based contract can be {what}; {ref(self)} is a one-time purchase")

    def ensure_not_cancelled(self, what: str) -> None:
        if self.status is ContractStatus.CANCELLED or self.cancelled_on is not None:
            raise Conflict(f"contract {ref(self)} is cancelled; it cannot be {what}")


def event_data(contract: Contract, **extra: Any) -> dict[str, Any]:
    """What every contract event carries: its opportunity and account (the subscriptions filter on them,
    the indicators re-evaluate the account), its kind, its status and its end."""
    return {
        "opportunityId": contract.opportunity_id,
        "accountId": contract.account_id,
        "kind": contract.kind.value,
        "status": contract.status.value,
        "endsOn": contract.ends_on.isoformat() if contract.ends_on else None,
        **extra,
    }


def end_of_day(day: date) -> datetime:
    """The instant a date is over: 00:00 UTC of the next day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def renewed_end(contract: Contract, months: int | None, ends_on: date | None) -> date:
    """The end of a renewal's new period: `ends_on` when given, else `months` after the current end, else
    as long again as the current period (in whole months when it was, in days otherwise)."""
    assert contract.ends_on is not None
    if ends_on is not None and months is not None:
        raise ValidationError("months", "give the new end (endsOn) or the months to add, not both")
    if months is not None:
        if not 1 <= months <= 1200:
            raise ValidationError("months", "a renewal adds 1 to 1200 months")
        return add_months(contract.ends_on, months)
    if ends_on is not None:
        if ends_on <= contract.ends_on:
            raise ValidationError("endsOn", f"a renewal ends after the current end ({contract.ends_on.isoformat()})")
        return ends_on
    start, end = contract.starts_on, contract.ends_on
    whole = (end.year - start.year) * 12 + end.month - start.month
    if whole > 0 and add_months(start, whole) == end:
        return add_months(end, whole)
    return end + (end - start)
