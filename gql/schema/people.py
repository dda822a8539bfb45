from __future__ import annotations

from datetime import date, datetime

import strawberry

from gql.schema import enums
from gql.schema import relations as rel
from gql.schema.base import Money, Node, money
from gql.schema.fields import to_many, to_one
from gql.schema.history import history_field
from persistence import tables


@strawberry.type(description="A sales team.")
class Team(Node):
    graphql_type = "Team"
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    name: str = strawberry.field(description="The team's name.")
    members = to_many(
        "gql.schema.people:User", tables.users, "team_id", "The users in this team.", order_by=(tables.users.c.name,)
    )


@strawberry.type(description="A person who signs in: an admin, a sales director or a sales rep.")
class User(Node):
    graphql_type = "User"
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="E-mail address (unique).")
    role: enums.Role = strawberry.field(description="What the user may do and see.")
    created_at: datetime = strawberry.field(description="When it was created.")
    team = to_one("gql.schema.people:Team", tables.teams, "team_id", "The user's team.")
    goals = to_many(
        "gql.schema.people:Goal",
        tables.goals,
        "user_id",
        "The user's sales goals, oldest period first.",
        order_by=(tables.goals.c.period_start,),
    )
    opportunities = rel.opportunities("owner_id", "Opportunities this user owns.")
    managed_accounts = rel.accounts("manager_id", "Accounts this user manages.")


@strawberry.type(description="A reseller or consultancy that is given accounts, leads and opportunities.")
class Partner(Node):
    graphql_type = "Partner"
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    name: str = strawberry.field(description="The partner's name.")
    email: str | None = strawberry.field(description="E-mail address.")
    phone: str | None = strawberry.field(description="Phone number.")
    country: str | None = strawberry.field(description="Country, ISO 3166 alpha-2.")
    created_at: datetime = strawberry.field(description="When it was created.")
    consultants = to_many(
        "gql.schema.accounts:Contact",
        tables.contacts,
        "partner_id",
        "The partner's consultants.",
        order_by=(tables.contacts.c.last_name,),
    )
    accounts = rel.accounts("partner_id", "Accounts this partner manages.")
    leads = rel.leads("assigned_partner_id", "Leads assigned to this partner.")
    opportunities = rel.opportunities("partner_id", "Opportunities assigned to this partner.")
    activities = rel.activities("partner_id", "this partner")
    history = history_field("Partner")
    comments = to_many(
        "gql.schema.attachments:PartnerComment",
        tables.partner_comments,
        "partner_id",
        "Users' comments on this partner, oldest first (a partner reads none).",
        order_by=(tables.partner_comments.c.id,),
    )


@strawberry.type(description="A sales goal of a user for a period.")
class Goal(Node):
    graphql_type = "Goal"
    version: int = strawberry.field(description="Increases with every change; send it back to update safely.")
    period_start: date = strawberry.field(description="First day of the period.")
    period_end: date = strawberry.field(description="Last day of the period.")
    target_deals: int = strawberry.field(description="How many deals the user aims to win.")
    user = to_one("gql.schema.people:User", tables.users, "user_id", "Whose goal this is.")

    @strawberry.field(description="The revenue the user aims to win in the period.")
    def target_revenue(self) -> Money:
        return money(self.__dict__["target_revenue_amount"], self.__dict__["target_revenue_currency"])  # type: ignore[return-value]


@strawberry.type(
    description="One user's part of the credit for a lead or an opportunity shared among co-workers: the "
    "scoreboard counts this percentage of the deal and of its revenue for the user."
)
class CreditShare:
    user_id: strawberry.Private[int]
    percent: int = strawberry.field(description="The user's share of the credit, a whole percentage (1-100).")

    @strawberry.field(description="The user credited (null when you may not see that user).")
    async def user(self, info: strawberry.Info) -> User | None:
        return User.from_row(await info.context.by_id(tables.users).load(self.user_id))


def credit_shares_of(text: str | None) -> list[CreditShare]:
    """The shares of a lead's or an opportunity's `credit_shares` column, by user id (empty: not shared)."""
    from domain import credit

    return [CreditShare(user_id=s.user_id, percent=s.percent) for s in credit.decode(text)]
