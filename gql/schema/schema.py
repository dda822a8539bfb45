from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from gql.schema import (
    accounts,
    attachments,
    catalog,
    contracts,
    documents,
    history,
    leads,
    monitors,
    opportunities,
    people,
    quotes,
    routing,
    selections,
    views,
)
from gql.schema.keys import SCALARS
from gql.schema.mutations import Mutation, extra_types
from gql.schema.query import Query
from gql.schema.subscriptions import Subscription

NODE_CLASSES = [
    accounts.Account,
    accounts.Contact,
    accounts.ContactType,
    accounts.AccountGroup,
    people.User,
    people.Team,
    people.Partner,
    people.Goal,
    leads.Lead,
    leads.Campaign,
    opportunities.Opportunity,
    opportunities.BusinessRole,
    opportunities.SalesActivity,
    quotes.Quote,
    quotes.QuoteItem,
    catalog.Product,
    catalog.ProductUnit,
    catalog.PriceBook,
    catalog.PriceEntry,
    catalog.Bundle,
    contracts.Contract,
    documents.QuoteDocument,
    documents.DocumentTemplate,
    routing.LeadRoutingRule,
    routing.LeadSplitter,
    history.AuditEntry,
    monitors.StatusMonitor,
    selections.Selection,
    views.SavedView,
    attachments.Attachment,
    attachments.AttachmentVersion,
    attachments.PartnerComment,
]

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[*NODE_CLASSES, *extra_types()],
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALARS),
)
