"""Lead routing: ordered rules whose typed conditions on a lead's fields pick a target (a user, a
partner or a splitter) and a priority; splitters share leads between sellers by weight."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from typing import Any

from domain import credit
from domain.base import Entity, required
from domain.errors import ValidationError, ref
from domain.leads import Lead


class LeadField(str, Enum):
    """The lead fields a routing condition can test."""

    COUNTRY = "COUNTRY"
    UTM_SOURCE = "UTM_SOURCE"
    UTM_MEDIUM = "UTM_MEDIUM"
    UTM_CAMPAIGN = "UTM_CAMPAIGN"
    CAMPAIGN = "CAMPAIGN"
    COMPANY_SIZE = "COMPANY_SIZE"


TEXT_FIELDS = {
    LeadField.COUNTRY: "country",
    LeadField.UTM_SOURCE: "utm_source",
    LeadField.UTM_MEDIUM: "utm_medium",
    LeadField.UTM_CAMPAIGN: "utm_campaign",
}


@dataclass(frozen=True)
class Condition:
    """One test on a lead: a text field is one of `values` (case-insensitive), the campaign is one
    of `values` (campaign ids), or the company size lies in [`min`, `max`] (either bound open). A
    lead without the field never matches."""

    field: LeadField
    values: tuple[Any, ...] = ()
    min: int | None = None
    max: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", LeadField(self.field))
        where = f"conditions.{self.field.value}"
        if self.field is LeadField.COMPANY_SIZE:
            if self.values:
                raise ValidationError(where, "a company size is tested with min and/or max, not values")
            if self.min is None and self.max is None:
                raise ValidationError(where, "give min, max or both")
            if (self.min is not None and self.min < 0) or (self.max is not None and self.max < 0):
                raise ValidationError(where, "sizes cannot be negative")
            if self.min is not None and self.max is not None and self.max < self.min:
                raise ValidationError(where, f"max {self.max} is below min {self.min}")
            return
        if self.min is not None or self.max is not None:
            raise ValidationError(where, "min and max apply to COMPANY_SIZE only; use values")
        if not self.values:
            raise ValidationError(where, "give at least one value")
        if self.field is LeadField.CAMPAIGN:
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in self.values):
                raise ValidationError(where, "values are campaign ids")
            object.__setattr__(self, "values", tuple(sorted(set(self.values))))
        else:
            cleaned = {str(v).strip().casefold() for v in self.values} - {""}
            if not cleaned:
                raise ValidationError(where, "values cannot be blank")
            if self.field is LeadField.COUNTRY:
                cleaned = {v.upper() for v in cleaned}
                if not all(len(v) == 2 and v.isalpha() for v in cleaned):
                    raise ValidationError(where, "countries are ISO 3166 alpha-2 codes such as NO")
            object.__setattr__(self, "values", tuple(sorted(cleaned)))

    def matches(self, lead: Lead) -> bool:
        if self.field is LeadField.COMPANY_SIZE:
            size = lead.company_size
            return (
                size is not None and (self.min is None or size >= self.min) and (self.max is None or size <= self.max)
            )
        if self.field is LeadField.CAMPAIGN:
            return lead.campaign_id is not None and lead.campaign_id in self.values
        value = getattr(lead, TEXT_FIELDS[self.field])
        if value is None:
            return False
        value = value.strip().casefold()
        return (value.upper() if self.field is LeadField.COUNTRY else value) in self.values

    def to_dict(self) -> dict[str, Any]:
        if self.field is LeadField.COMPANY_SIZE:
            return {"field": self.field.value, "min": self.min, "max": self.max}
        return {"field": self.field.value, "values": list(self.values)}

    @classmethod
    def parse(cls, data: Condition | dict[str, Any]) -> Condition:
        if isinstance(data, Condition):
            return data
        try:
            return cls(
                field=LeadField(data["field"]),
                values=tuple(data.get("values") or ()),
                min=data.get("min"),
                max=data.get("max"),
            )
        except (KeyError, ValueError, TypeError):
            raise ValidationError("conditions", f"{data!r} is not a condition") from None


@dataclass(kw_only=True)
class LeadRoutingRule(Entity):
    """If every condition holds (no conditions: every lead), the lead goes to the rule's target and
    gets its priority. Rules are tried by position (ties by id); the first that matches wins."""

    name: str
    position: int = 0
    active: bool = True
    conditions: list[dict[str, Any]] = field(default_factory=list)
    user_id: int | None = None
    partner_id: int | None = None
    splitter_id: int | None = None
    priority: int | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        # Stored as plain JSON, in a canonical form, so equal rules compare equal.
        self.conditions = [Condition.parse(c).to_dict() for c in self.conditions or []]
        targets = [t for t in (self.user_id, self.partner_id, self.splitter_id) if t is not None]
        if len(targets) != 1:
            raise ValidationError("target", "a rule sends leads to exactly one user, partner or splitter")
        if self.priority is not None and self.priority < 0:
            raise ValidationError("priority", "cannot be negative")

    def parsed_conditions(self) -> list[Condition]:
        return [Condition.parse(c) for c in self.conditions]

    def matches(self, lead: Lead) -> bool:
        return self.active and all(c.matches(lead) for c in self.parsed_conditions())


def first_matching(rules: Sequence[LeadRoutingRule], lead: Lead) -> LeadRoutingRule | None:
    for rule in sorted(rules, key=lambda r: (r.position, r.id or 0)):
        if rule.matches(lead):
            return rule
    return None


class SplitterMode(str, Enum):
    QUOTA = "QUOTA"  # each lead to one seller, by weight
    SHARE = "SHARE"  # each lead's credit shared among all the users, the weights being percentages


SPLITTER_MODES = tuple(m.value for m in SplitterMode)


@dataclass(kw_only=True)
class LeadSplitter(Entity):
    """Shares leads between sellers by weight, e.g. 50/30/20."""

    name: str
    active: bool = True
    # QUOTA: each lead goes to one seller, sellers taking leads by weight (50/30/20 converging).
    # SHARE: the guide's sharing splitter: each lead is shared among all its users, the weights being
    # percentages of the credit (33/33/34), and assigned to the user with the largest share.
    mode: str = "QUOTA"

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        mode = getattr(self.mode, "value", self.mode)  # the API's enum, or its value
        if mode not in SPLITTER_MODES:
            raise ValidationError("mode", f"a splitter's mode is QUOTA or SHARE, not {mode!r}")
        self.mode = mode


@dataclass(kw_only=True)
class LeadSplitterShare(Entity):
    """One seller's part of a splitter: its weight and how many leads it has been given so far."""

    splitter_id: int
    weight: int
    user_id: int | None = None
    partner_id: int | None = None
    assigned: int = 0

    def __post_init__(self) -> None:
        if (self.user_id is None) == (self.partner_id is None):
            raise ValidationError("shares", "each share goes to exactly one user or one partner")
        if self.weight <= 0:
            raise ValidationError("shares", f"weights are positive, not {self.weight}")
        if self.assigned < 0:
            raise ValidationError("assigned", "cannot be negative")

    @property
    def seller(self) -> tuple[str, int]:
        return ("user", self.user_id) if self.user_id is not None else ("partner", self.partner_id)  # type: ignore[return-value]


def check_shares(shares: Sequence[LeadSplitterShare]) -> None:
    if not shares:
        raise ValidationError("shares", "a splitter needs at least one share")
    sellers = [s.seller for s in shares]
    doubles = sorted(
        {f"{kind} {ref(kind.title(), ident)}" for kind, ident in sellers if sellers.count((kind, ident)) > 1}
    )
    if doubles:
        raise ValidationError("shares", f"each seller has one share; twice: {', '.join(doubles)}")


def check_credit_shares(shares: Sequence[LeadSplitterShare]) -> str:
    """The credit split of a SHARE splitter's shares (domain/credit.py): users only, whole percentages
    adding up to 100; a ValidationError on `shares` otherwise."""
    if any(s.user_id is None for s in shares):
        raise ValidationError("shares", "a sharing splitter shares leads among users, not partners")
    checked = credit.check([credit.Share(s.user_id, s.weight) for s in shares])  # type: ignore[arg-type]
    return credit.encode(checked)  # type: ignore[return-value]


def lead_holder(shares: Sequence[LeadSplitterShare]) -> LeadSplitterShare:
    """Who a SHARE splitter assigns a lead to: the largest share, ties by the share's id."""
    return max(shares, key=lambda s: (s.weight, -(s.id or 0)))


def next_share(shares: Sequence[LeadSplitterShare]) -> LeadSplitterShare:
    """The share that gets the next lead, by Balinski and Young's quota method: among the shares still
    below their exact quota weight·(n+1)/Σweights after n leads, the one with the largest
    weight/(assigned+1), ties by id. Deterministic, and every share's count stays within one lead of
    its exact quota at every step (it always lies between the quota rounded down and rounded up), so
    realised shares converge to the weights. The simpler "largest deficit" rule can drift just past
    one lead (e.g. weights 1/1/1/9/9 after 14 leads)."""
    if not shares:
        raise ValidationError("shares", "a splitter needs at least one share")
    total = sum(s.weight for s in shares)
    n = sum(s.assigned for s in shares)
    # Never empty: the counts add up to n and the quotas to n+1, so some share is below its quota.
    below = [s for s in shares if s.assigned * total < s.weight * (n + 1)]
    return max(below, key=lambda s: (Fraction(s.weight, s.assigned + 1), -(s.id or 0)))
