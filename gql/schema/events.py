"""What every event a subscription delivers shows the same way: its id (the `since` to resume from) and
its time. Each kind of event (`OpportunityEvent`, `TaskEvent`, `ContractEvent`) extends it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gql.subscriptions.hub import Event


@strawberry.type(description="An event of the event log, as a subscription delivers it.")
class LoggedEvent:
    event: strawberry.Private[Event]

    @strawberry.field(
        description="The event's id: increases with every event; pass the last one you received as `since` "
        "when you subscribe again."
    )
    def event_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.event["id"]))

    @strawberry.field(description="When it happened.")
    def at(self) -> datetime:
        return datetime.fromisoformat(self.event["at"])
