"""The to-many connections that several types share, each with its filter and ordering."""

from __future__ import annotations

from typing import Any

from gql.schema import filters
from gql.schema.fields import connection
from persistence import filters as spec


def accounts(fk: str, description: str) -> Any:
    return connection(
        "gql.schema.accounts:Account",
        spec.ACCOUNTS,
        fk=fk,
        default_order="NAME",
        filter_type=filters.AccountFilter,
        order_type=filters.AccountOrder,
        description=description,
    )


def contacts(fk: str, description: str) -> Any:
    return connection(
        "gql.schema.accounts:Contact",
        spec.CONTACTS,
        fk=fk,
        default_order="LAST_NAME",
        filter_type=filters.ContactFilter,
        order_type=filters.ContactOrder,
        description=description,
    )


def leads(fk: str, description: str) -> Any:
    return connection(
        "gql.schema.leads:Lead",
        spec.LEADS,
        fk=fk,
        default_order="CREATED_AT",
        filter_type=filters.LeadFilter,
        order_type=filters.LeadOrder,
        description=description,
    )


def opportunities(fk: str, description: str) -> Any:
    return connection(
        "gql.schema.opportunities:Opportunity",
        spec.OPPORTUNITIES,
        fk=fk,
        default_order="CREATED_AT",
        filter_type=filters.OpportunityFilter,
        order_type=filters.OpportunityOrder,
        description=description,
    )


def contracts(fk: str, description: str) -> Any:
    return connection(
        "gql.schema.contracts:Contract",
        spec.CONTRACTS,
        fk=fk,
        default_order="STARTS_ON",
        filter_type=filters.ContractFilter,
        order_type=filters.ContractOrder,
        description=description,
    )


def activities(fk: str | spec.DerivedKey, what: str) -> Any:
    return connection(
        "gql.schema.opportunities:SalesActivity",
        spec.SALES_ACTIVITIES,
        fk=fk,
        default_order="CREATED_AT",
        filter_type=filters.SalesActivityFilter,
        order_type=filters.SalesActivityOrder,
        description=f"Sales activities on {what}.",
    )


def conversations(fk: str, what: str) -> Any:
    return connection(
        "gql.schema.conversations:Conversation",
        spec.CONVERSATIONS,
        fk=fk,
        default_order="STARTED_AT",
        filter_type=filters.ConversationFilter,
        order_type=filters.ConversationOrder,
        description=f"Recorded calls and meetings {what}.",
    )
