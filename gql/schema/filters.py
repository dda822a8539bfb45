"""Filter and ordering inputs of the list fields. Field names match persistence.filters criteria."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from gql.schema import enums
from persistence.filters import MAX_SEARCH_LENGTH


def _f(description: str, name: str | None = None) -> Any:
    return strawberry.field(default=None, description=description, name=name)


def order_input(entity: str, fields: dict[str, str]) -> type:
    """`<Entity>OrderField` enum and `<Entity>Order` input; ties are broken by id."""
    members = {k: strawberry.enum_value(k, description=v) for k, v in fields.items()}
    field_enum = strawberry.enum(
        Enum(f"{entity}OrderField", members), description=f"What a list of {entity} objects can be ordered by."
    )

    @strawberry.input(name=f"{entity}Order", description=f"How to order a list of {entity} objects (ties by id).")
    class Order:
        # The annotation is a string under `from __future__ import annotations`, and `field_enum` is a local:
        # hand Strawberry the type itself.
        field: Any = strawberry.field(graphql_type=field_enum, description="What to order by.")
        direction: enums.OrderDirection = strawberry.field(
            default=enums.OrderDirection.ASC, description="Ascending (default) or descending."
        )

    return Order


_STAMPS = {"CREATED_AT": "When it was created.", "UPDATED_AT": "When it last changed."}

AccountOrder = order_input("Account", {"NAME": "By name.", "COUNTRY": "By country code.", **_STAMPS})
ContactOrder = order_input("Contact", {"LAST_NAME": "By last name.", "FIRST_NAME": "By first name.", **_STAMPS})
LeadOrder = order_input(
    "Lead", {"PRIORITY": "By priority.", "LAST_NAME": "By last name.", "COMPANY": "By company name.", **_STAMPS}
)
OpportunityOrder = order_input(
    "Opportunity",
    {
        "NAME": "By name.",
        "ESTIMATED_REVENUE": "By estimated revenue amount (currencies are not converted).",
        "EXPECTED_CLOSE_DATE": "By expected close date.",
        "CLOSED_AT": "By the time it was won or lost.",
        "STAGE_CHANGED_AT": "By the time of the last stage change.",
        **_STAMPS,
    },
)
ContractOrder = order_input(
    "Contract",
    {
        "STARTS_ON": "By start date.",
        "ENDS_ON": "By end date.",
        "VALUE": "By value amount.",
        "NAME": "By name.",
        **_STAMPS,
    },
)
PartnerOrder = order_input("Partner", {"NAME": "By name.", **_STAMPS})
CampaignOrder = order_input("Campaign", {"NAME": "By name.", "STARTS_ON": "By start date.", **_STAMPS})
PriceBookOrder = order_input("PriceBook", {"NAME": "By name.", **_STAMPS})
ProductOrder = order_input("Product", {"NAME": "By name.", "CODE": "By product code.", **_STAMPS})
SalesActivityOrder = order_input(
    "SalesActivity",
    {"DUE_AT": "By due time.", "OCCURRED_AT": "By the time it happened.", "SUBJECT": "By subject.", **_STAMPS},
)
ConversationOrder = order_input(
    "Conversation",
    {
        "STARTED_AT": "By the time it started.",
        "DURATION": "By its length.",
        "TITLE": "By title.",
        **_STAMPS,
    },
)
HistoryOrder = order_input("AuditEntry", {"AT": "By the time of the change."})
UserOrder = order_input("User", {"NAME": "By name.", "EMAIL": "By e-mail.", **_STAMPS})

SEARCH = (
    f"Case-insensitive text (at most {MAX_SEARCH_LENGTH} characters) that the name (and the other text fields named here) "
    "must contain."
)


@strawberry.input(description="Which accounts to list. All given conditions must hold.")
class AccountFilter:
    search: str | None = _f(SEARCH + " Searches name, organization, e-mail and city.")
    kind: enums.AccountKind | None = _f("Only accounts of this kind.")
    country: str | None = _f("Only accounts in this country (ISO 3166 alpha-2, e.g. NO).")
    country_in: list[str] | None = _f("Only accounts in one of these countries.")
    industry: str | None = _f("Only accounts in this industry.")
    manager_id: strawberry.ID | None = _f("Only accounts managed by this user.")
    category_group: enums.CategoryGroup | None = _f("Only accounts in this category group.")
    category: str | None = _f("Only accounts of this category.")
    parent_id: strawberry.ID | None = _f("Only sub-accounts of this account.")
    partner_id: strawberry.ID | None = _f("Only accounts managed by this partner.")
    is_global: bool | None = _f("Only global (true) or only non-global (false) accounts.")
    key_account: bool | None = _f("Only key accounts (true) or only others (false).")
    created_at_min: datetime | None = _f("Created at or after this time.", name="createdFrom")
    created_at_max: datetime | None = _f("Created at or before this time.", name="createdTo")
    has_opportunities: bool | None = _f("With (true) or without (false) opportunities.")
    has_contacts: bool | None = _f("With (true) or without (false) contacts.")
    has_sub_accounts: bool | None = _f("With (true) or without (false) sub-accounts.")
    has_parent: bool | None = _f("Sub-accounts (true) or top-level accounts (false).")
    has_partner: bool | None = _f("With (true) or without (false) a managing partner.")
    is_favourite: bool | None = _f("Only your favourites (true) or only the others (false); a partner has none.")
    has_indicator: strawberry.ID | None = _f("Only accounts carrying the indicator of this status monitor.")
    lacks_indicator: strawberry.ID | None = _f("Only accounts not carrying the indicator of this status monitor.")
    service_expires_min: date | None = _f(
        "Only accounts with an active time-based contract (one you may see) ending on or after this date; with "
        "`serviceExpiresTo`, the same contract ends within both.",
        name="serviceExpiresFrom",
    )
    service_expires_max: date | None = _f(
        "Only accounts with an active time-based contract (one you may see) ending on or before this date: "
        "the accounts whose service expires by then.",
        name="serviceExpiresTo",
    )


@strawberry.input(description="Which contacts to list. All given conditions must hold.")
class ContactFilter:
    search: str | None = _f(SEARCH + " Searches first name, last name and e-mail.")
    account_id: strawberry.ID | None = _f("Only employees of this account.")
    partner_id: strawberry.ID | None = _f("Only consultants of this partner.")
    contact_type_id: strawberry.ID | None = _f("Only contacts of this type.")
    lead_status: enums.LeadStatus | None = _f(
        "Only contacts showing this lead status (employees of prospect accounts whose category has lead status "
        "switched on; a hidden stored value never matches)."
    )
    lead_status_in: list[enums.LeadStatus] | None = _f("Only contacts showing one of these lead statuses.")
    has_indicator: strawberry.ID | None = _f("Only contacts carrying the indicator of this status monitor.")
    lacks_indicator: strawberry.ID | None = _f("Only contacts not carrying the indicator of this status monitor.")
    created_at_min: datetime | None = _f("Created at or after this time.", name="createdFrom")
    created_at_max: datetime | None = _f("Created at or before this time.", name="createdTo")


@strawberry.input(description="Which leads to list. All given conditions must hold.")
class LeadFilter:
    search: str | None = _f(SEARCH + " Searches first name, last name, company and e-mail.")
    status: enums.LeadStatus | None = _f("Only leads in this status.")
    status_in: list[enums.LeadStatus] | None = _f("Only leads in one of these statuses.")
    country: str | None = _f("Only leads from this country (ISO 3166 alpha-2).")
    campaign_id: strawberry.ID | None = _f("Only leads from this campaign.")
    assigned_user_id: strawberry.ID | None = _f("Only leads assigned to this user.")
    assigned_partner_id: strawberry.ID | None = _f("Only leads assigned to this partner.")
    archived: bool | None = _f("Only archived (true) or only active (false) leads.")
    priority_min: int | None = _f("Priority at least this.", name="priorityMin")
    priority_max: int | None = _f("Priority at most this.", name="priorityMax")
    company_size_min: int | None = _f("Company size at least this.", name="companySizeMin")
    company_size_max: int | None = _f("Company size at most this.", name="companySizeMax")
    created_at_min: datetime | None = _f("Created at or after this time.", name="createdFrom")
    created_at_max: datetime | None = _f("Created at or before this time.", name="createdTo")
    has_assignee: bool | None = _f("Assigned (true) or unassigned (false).")
    has_opportunity: bool | None = _f("Qualified into an opportunity (true) or not (false).")
    has_duplicate_of: bool | None = _f(
        "Recognised as an earlier lead you may see when it came in (true: possible duplicates), or not (false)."
    )
    has_indicator: strawberry.ID | None = _f("Only leads carrying the indicator of this status monitor.")
    lacks_indicator: strawberry.ID | None = _f("Only leads not carrying the indicator of this status monitor.")


@strawberry.input(description="Which opportunities to list. All given conditions must hold.")
class OpportunityFilter:
    search: str | None = _f(SEARCH)
    stage: enums.Stage | None = _f("Only opportunities in this stage.")
    stage_in: list[enums.Stage] | None = _f("Only opportunities in one of these stages.")
    status: enums.OpportunityStatus | None = _f("Only open, only won or only lost opportunities.")
    owner_id: strawberry.ID | None = _f("Only opportunities owned by this user.")
    account_id: strawberry.ID | None = _f("Only opportunities of this account.")
    partner_id: strawberry.ID | None = _f("Only opportunities assigned to this partner.")
    campaign_id: strawberry.ID | None = _f("Only opportunities from this campaign.")
    estimated_revenue_currency: str | None = _f("Only opportunities estimated in this currency.", name="currency")
    estimated_revenue_amount_min: Decimal | None = _f(
        "Estimated revenue at least this amount (in its own currency).", name="estimatedRevenueMin"
    )
    estimated_revenue_amount_max: Decimal | None = _f(
        "Estimated revenue at most this amount (in its own currency).", name="estimatedRevenueMax"
    )
    probability_min: int | None = _f("Probability at least this percentage.", name="probabilityMin")
    probability_max: int | None = _f("Probability at most this percentage.", name="probabilityMax")
    expected_close_date_min: date | None = _f("Expected to close on or after this date.", name="expectedCloseFrom")
    expected_close_date_max: date | None = _f("Expected to close on or before this date.", name="expectedCloseTo")
    closed_at_min: datetime | None = _f("Won or lost at or after this time.", name="closedFrom")
    closed_at_max: datetime | None = _f("Won or lost at or before this time.", name="closedTo")
    created_at_min: datetime | None = _f("Created at or after this time.", name="createdFrom")
    created_at_max: datetime | None = _f("Created at or before this time.", name="createdTo")
    locked: bool | None = _f("Only locked (sold) or only editable opportunities.")
    has_quotes: bool | None = _f("With (true) or without (false) quotes.")
    has_active_quote: bool | None = _f("With (true) or without (false) an active quote.")
    has_contracts: bool | None = _f("With (true) or without (false) contracts.")
    has_partner: bool | None = _f("With (true) or without (false) a partner.")
    has_indicator: strawberry.ID | None = _f("Only opportunities carrying the indicator of this status monitor.")
    lacks_indicator: strawberry.ID | None = _f("Only opportunities not carrying the indicator of this status monitor.")


@strawberry.input(description="Which contracts to list. All given conditions must hold.")
class ContractFilter:
    search: str | None = _f(SEARCH)
    kind: enums.ContractKind | None = _f("Only contracts of this kind.")
    status: enums.ContractStatus | None = _f("Only contracts in this status.")
    account_id: strawberry.ID | None = _f("Only contracts of this account.")
    opportunity_id: strawberry.ID | None = _f("Only contracts from this opportunity.")
    product_id: strawberry.ID | None = _f("Only contracts for this product.")
    category: enums.ProductCategory | None = _f("Only contracts for products of this category.")
    starts_on_min: date | None = _f("Starting on or after this date.", name="startsFrom")
    starts_on_max: date | None = _f("Starting on or before this date.", name="startsTo")
    ends_on_min: date | None = _f("Ending on or after this date.", name="endsFrom")
    ends_on_max: date | None = _f("Ending on or before this date.", name="endsTo")
    value_amount_min: Decimal | None = _f("Value at least this amount (in its own currency).", name="valueMin")
    value_amount_max: Decimal | None = _f("Value at most this amount (in its own currency).", name="valueMax")


@strawberry.input(description="Which partners to list. All given conditions must hold.")
class PartnerFilter:
    search: str | None = _f(SEARCH + " Searches name and e-mail.")
    country: str | None = _f("Only partners in this country (ISO 3166 alpha-2).")
    has_accounts: bool | None = _f("With (true) or without (false) managed accounts.")


@strawberry.input(description="Which campaigns to list. All given conditions must hold.")
class CampaignFilter:
    search: str | None = _f(SEARCH)
    status: enums.CampaignStatus | None = _f("Only campaigns in this status.")
    starts_on_min: date | None = _f("Starting on or after this date.", name="startsFrom")
    starts_on_max: date | None = _f("Starting on or before this date.", name="startsTo")
    has_leads: bool | None = _f("With (true) or without (false) leads.")


@strawberry.input(description="Which price books to list. All given conditions must hold.")
class PriceBookFilter:
    search: str | None = _f(SEARCH + " Searches name and description.")
    active: bool | None = _f("Only active (true) or only inactive (false) price books.")
    is_update: bool | None = _f("Only update books (true) or only original books (false).")


@strawberry.input(description="Which products to list. All given conditions must hold.")
class ProductFilter:
    search: str | None = _f(SEARCH + " Searches name, code and description.")
    category: enums.ProductCategory | None = _f("Only products of this category.")
    code: str | None = _f("Only the product with exactly this code.")
    active: bool | None = _f("Only active (true) or only inactive (false) products.")


@strawberry.input(description="Which sales activities to list. All given conditions must hold.")
class SalesActivityFilter:
    search: str | None = _f(SEARCH + " Searches subject and notes.")
    type: enums.ActivityType | None = _f("Only activities of this type.")
    type_in: list[enums.ActivityType] | None = _f("Only activities of one of these types.")
    owner_id: strawberry.ID | None = _f("Only activities owned by this user.")
    lead_id: strawberry.ID | None = _f("Only activities on this lead.")
    opportunity_id: strawberry.ID | None = _f("Only activities on this opportunity.")
    account_id: strawberry.ID | None = _f("Only activities on this account.")
    contact_id: strawberry.ID | None = _f("Only activities on this contact (the person's own).")
    partner_id: strawberry.ID | None = _f("Only activities on this partner.")
    attached_to_in: list[enums.ActivityAttachment] | None = _f(  # type: ignore[valid-type]
        "Only activities attached to one of these kinds of row (on an account's timeline, [ACCOUNT] keeps the "
        "account's own activities and leaves out those of its opportunities and contacts)."
    )
    done: bool | None = _f("Only done (true) or only open (false) activities.")
    due_at_min: datetime | None = _f("Due at or after this time.", name="dueFrom")
    due_at_max: datetime | None = _f("Due at or before this time.", name="dueTo")
    occurred_at_min: datetime | None = _f("Happened at or after this time.", name="occurredFrom")
    occurred_at_max: datetime | None = _f("Happened at or before this time.", name="occurredTo")


@strawberry.input(description="Which recorded conversations to list. All given conditions must hold.")
class ConversationFilter:
    search: str | None = _f(SEARCH + " Searches the title.")
    kind: enums.ConversationKind | None = _f("Only conversations of this kind.")
    language: enums.ConversationLanguage | None = _f("Only conversations in this language.")
    owner_id: strawberry.ID | None = _f("Only conversations of this seller (their owner).")
    owner_id_in: list[strawberry.ID] | None = _f("Only conversations of one of these sellers.")
    account_id: strawberry.ID | None = _f("Only conversations about this account.")
    contact_id: strawberry.ID | None = _f("Only conversations with this contact.")
    opportunity_id: strawberry.ID | None = _f("Only conversations about this opportunity.")
    external_id: str | None = _f("Only the conversation with this id in the recording system.")
    started_at_min: datetime | None = _f("Started at or after this time.", name="startedFrom")
    started_at_max: datetime | None = _f("Started at or before this time.", name="startedTo")
    duration_seconds_min: int | None = _f("At least this many seconds long.", name="minDurationSeconds")
    duration_seconds_max: int | None = _f("At most this many seconds long.", name="maxDurationSeconds")


@strawberry.input(description="Which users to list. All given conditions must hold.")
class UserFilter:
    search: str | None = _f(SEARCH + " Searches name and e-mail.")
    role: enums.Role | None = _f("Only users with this role.")
    team_id: strawberry.ID | None = _f("Only members of this team.")


@strawberry.input(description="Which history entries to list. All given conditions must hold.")
class HistoryFilter:
    field: str | None = _f("Only changes of this field (e.g. `stage`, `items`, `created`).")
    actor_user_id: strawberry.ID | None = _f("Only changes made by this user.", name="actorId")
    at_min: datetime | None = _f("Changed at or after this time.", name="from")
    at_max: datetime | None = _f("Changed at or before this time.", name="to")
