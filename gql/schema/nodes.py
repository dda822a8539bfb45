"""Every type that implements Node, with the table its rows come from (node(id:) and mutation payloads)."""

from __future__ import annotations

from sqlalchemy import Table

from persistence import tables as t

NODE_TYPES: dict[str, tuple[str, Table]] = {
    "Account": ("gql.schema.accounts:Account", t.accounts),
    "Contact": ("gql.schema.accounts:Contact", t.contacts),
    "ContactType": ("gql.schema.accounts:ContactType", t.contact_types),
    "AccountGroup": ("gql.schema.accounts:AccountGroup", t.account_groups),
    "User": ("gql.schema.people:User", t.users),
    "Team": ("gql.schema.people:Team", t.teams),
    "Partner": ("gql.schema.people:Partner", t.partners),
    "Goal": ("gql.schema.people:Goal", t.goals),
    "Lead": ("gql.schema.leads:Lead", t.leads),
    "Campaign": ("gql.schema.leads:Campaign", t.campaigns),
    "Opportunity": ("gql.schema.opportunities:Opportunity", t.opportunities),
    "BusinessRole": ("gql.schema.opportunities:BusinessRole", t.business_roles),
    "SalesActivity": ("gql.schema.opportunities:SalesActivity", t.sales_activities),
    "Quote": ("gql.schema.quotes:Quote", t.quotes),
    "QuoteItem": ("gql.schema.quotes:QuoteItem", t.quote_items),
    "Product": ("gql.schema.catalog:Product", t.products),
    "ProductUnit": ("gql.schema.catalog:ProductUnit", t.product_units),
    "PriceBook": ("gql.schema.catalog:PriceBook", t.price_books),
    "PriceEntry": ("gql.schema.catalog:PriceEntry", t.price_entries),
    "Bundle": ("gql.schema.catalog:Bundle", t.bundles),
    "Contract": ("gql.schema.contracts:Contract", t.contracts),
    "QuoteDocument": ("gql.schema.documents:QuoteDocument", t.quote_documents),
    "DocumentTemplate": ("gql.schema.documents:DocumentTemplate", t.document_templates),
    "LeadRoutingRule": ("gql.schema.routing:LeadRoutingRule", t.lead_routing_rules),
    "LeadSplitter": ("gql.schema.routing:LeadSplitter", t.lead_splitters),
    "AuditEntry": ("gql.schema.history:AuditEntry", t.audit_entries),
    "StatusMonitor": ("gql.schema.monitors:StatusMonitor", t.status_monitors),
}
TABLES: dict[str, Table] = {
    **{name: table for name, (_, table) in NODE_TYPES.items()},
    # Nodes that mutations answer with but node(id:) does not look up: a token is listed by apiTokens only.
    "ApiToken": t.api_tokens,
}
