"""Opportunity stages as rows (issue 17, item 5): each has a key (what an opportunity stores), a name, a place in
the order of the process, a default probability, a kind (OPEN, WON or LOST) and an active switch.

Every rule that asks whether a deal is open, won, lost or closed asks its stage's kind through a
`StageCatalog`, never the key: an admin may add "Won – paid" beside WON and it counts as won everywhere.
Workflows get the catalogue from the unit of work (`uow.stages()`), so the domain never reads a table.
The six stages seeded before stages were rows keep their keys (`Stage` in domain/enums.py names them)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from domain.base import Entity, required
from domain.errors import Conflict, ValidationError

KEY = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
KEY_MAX = 32
NAME_MAX = 100


class StageKind(str, Enum):
    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


def check_key(key: str | None, field: str = "key") -> str:
    """A key an admin gives a new value of a configurable list: UPPER_SNAKE, at most KEY_MAX characters."""
    key = (key or "").strip()
    if not key or len(key) > KEY_MAX or not KEY.match(key):
        raise ValidationError(field, f"{key!r} is not a key: use UPPER_SNAKE letters and digits, at most {KEY_MAX}")
    return key


@dataclass(kw_only=True)
class OpportunityStage(Entity):
    key: str
    name: str
    position: int = 0
    probability: int = 0
    kind: StageKind = StageKind.OPEN
    active: bool = True

    def __post_init__(self) -> None:
        self.key = check_key(self.key)
        self.name = required(self.name, "name")
        if len(self.name) > NAME_MAX:
            raise ValidationError("name", f"is longer than {NAME_MAX} characters")
        self.kind = StageKind(self.kind)
        if not 0 <= self.probability <= 100:
            raise ValidationError("probability", "must be between 0 and 100")
        if self.kind is StageKind.WON and self.probability != 100:
            raise ValidationError("probability", "a WON-kind stage has probability 100")
        if self.kind is StageKind.LOST and self.probability != 0:
            raise ValidationError("probability", "a LOST-kind stage has probability 0")

    @property
    def is_open(self) -> bool:
        return self.kind is StageKind.OPEN

    @property
    def is_closed(self) -> bool:
        return self.kind is not StageKind.OPEN


# The stages every database starts with (migration 0019 inserts them; the keys are the former enum's values).
SEEDED: tuple[OpportunityStage, ...] = (
    OpportunityStage(key="PROSPECTING", name="Prospecting", position=1, probability=10),
    OpportunityStage(key="QUALIFICATION", name="Qualification", position=2, probability=25),
    OpportunityStage(key="PROPOSAL", name="Proposal", position=3, probability=50),
    OpportunityStage(key="NEGOTIATION", name="Negotiation", position=4, probability=75),
    OpportunityStage(key="WON", name="Won", position=5, probability=100, kind=StageKind.WON),
    OpportunityStage(key="LOST", name="Lost", position=6, probability=0, kind=StageKind.LOST),
)


class StageCatalog:
    """The stages of a database, in the order of the process (position, then key). Answers every question
    the rules ask of a key; an unknown key (a row written by hand) counts as no stage: neither open nor
    closed, on no board."""

    def __init__(self, stages: Iterable[OpportunityStage]) -> None:
        self.stages: tuple[OpportunityStage, ...] = tuple(sorted(stages, key=lambda s: (s.position, s.key)))
        self._by_key = {s.key: s for s in self.stages}

    def __iter__(self) -> Iterator[OpportunityStage]:
        return iter(self.stages)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def get(self, key: str) -> OpportunityStage | None:
        return self._by_key.get(_key(key))

    def kind(self, key: str) -> StageKind | None:
        stage = self.get(key)
        return stage.kind if stage else None

    def is_open(self, key: str) -> bool:
        return self.kind(key) is StageKind.OPEN

    def is_won(self, key: str) -> bool:
        return self.kind(key) is StageKind.WON

    def is_lost(self, key: str) -> bool:
        return self.kind(key) is StageKind.LOST

    def is_closed(self, key: str) -> bool:
        return self.kind(key) in (StageKind.WON, StageKind.LOST)

    def keys(self, kind: StageKind | None = None) -> tuple[str, ...]:
        """The keys (of one kind), in order, inactive ones included (they still hold deals)."""
        return tuple(s.key for s in self.stages if kind is None or s.kind is kind)

    def kinds(self) -> dict[str, str]:
        """Key → kind name, for the aggregates."""
        return {s.key: s.kind.value for s in self.stages}

    def probability(self, key: str) -> int:
        stage = self.get(key)
        return stage.probability if stage else 0

    def usable(self, key: str, field: str = "stage", kind: StageKind | None = None) -> OpportunityStage:
        """The active stage `key` names, for a write; a ValidationError on `field` naming the key and the list
        when it is unknown, inactive or (with `kind`) of another kind."""
        key = _key(key)
        stage = self._by_key.get(key)
        if stage is None:
            raise ValidationError(field, f"{key} is not an opportunity stage; one of {', '.join(self.keys())}")
        if not stage.active:
            raise ValidationError(field, f"the opportunity stage {key} is deactivated; it takes no new opportunities")
        if kind is not None and stage.kind is not kind:
            raise ValidationError(field, f"{key} is a {stage.kind.value}-kind opportunity stage, not {kind.value}")
        return stage

    def first(self, kind: StageKind) -> OpportunityStage:
        """The first active stage of `kind` in the order: where a new deal starts (OPEN), where a sale or a loss
        moves it (WON, LOST)."""
        for stage in self.stages:
            if stage.kind is kind and stage.active:
                return stage
        raise Conflict(f"there is no active {kind.value}-kind opportunity stage; an admin must activate one")

    def last(self, kind: StageKind) -> OpportunityStage:
        """The last active stage of `kind`: where an unlocked sale goes back to (the last open stage)."""
        for stage in reversed(self.stages):
            if stage.kind is kind and stage.active:
                return stage
        raise Conflict(f"there is no active {kind.value}-kind opportunity stage; an admin must activate one")


def _key(key: object) -> str:
    return key.value if isinstance(key, Enum) else str(key)


DEFAULT_CATALOG = StageCatalog(SEEDED)
