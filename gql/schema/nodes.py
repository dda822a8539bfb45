"""Every type that implements Node, with the table its rows come from (node(id:) and mutation payloads)."""

from __future__ import annotations

from sqlalchemy import Table

from persistence import tables

NODE_TYPES: dict[str, tuple[str, Table]] = {
    "Account": ("gql.schema.accounts:Account", tables.accounts),
    "Contact": ("gql.schema.accounts:Contact", tables.contacts),
    "ContactType": ("gql.schema.accounts:ContactType", tables.contact_types),
    "ListValue": ("gql.schema.settings:ListValue", tables.list_values),
    "AccountGroup": ("gql.schema.accounts:AccountGroup", tables.account_groups),
    "User": ("gql.schema.people:User", tables.users),
    "Team": ("gql.schema.people:Team", tables.teams),
    "Partner": ("gql.schema.people:Partner", tables.partners),
    "Goal": ("gql.schema.people:Goal", tables.goals),
    "Lead": ("gql.schema.leads:Lead", tables.leads),
    "Campaign": ("gql.schema.leads:Campaign", tables.campaigns),
    "Opportunity": ("gql.schema.opportunities:Opportunity", tables.opportunities),
    "OpportunityStage": ("gql.schema.settings:OpportunityStage", tables.opportunity_stages),
    "BusinessRole": ("gql.schema.opportunities:BusinessRole", tables.business_roles),
    "SalesActivity": ("gql.schema.opportunities:SalesActivity", tables.sales_activities),
    "Quote": ("gql.schema.quotes:Quote", tables.quotes),
    "QuoteItem": ("gql.schema.quotes:QuoteItem", tables.quote_items),
    "Product": ("gql.schema.catalog:Product", tables.products),
    "ProductUnit": ("gql.schema.catalog:ProductUnit", tables.product_units),
    "PriceBook": ("gql.schema.catalog:PriceBook", tables.price_books),
    "PriceEntry": ("gql.schema.catalog:PriceEntry", tables.price_entries),
    "Bundle": ("gql.schema.catalog:Bundle", tables.bundles),
    "Contract": ("gql.schema.contracts:Contract", tables.contracts),
    "QuoteDocument": ("gql.schema.documents:QuoteDocument", tables.quote_documents),
    "DocumentTemplate": ("gql.schema.documents:DocumentTemplate", tables.document_templates),
    "LeadRoutingRule": ("gql.schema.routing:LeadRoutingRule", tables.lead_routing_rules),
    "LeadSplitter": ("gql.schema.routing:LeadSplitter", tables.lead_splitters),
    "AuditEntry": ("gql.schema.history:AuditEntry", tables.audit_entries),
    "CustomFieldDefinition": ("gql.schema.custom_fields:CustomFieldDefinition", tables.custom_field_definitions),
    "StatusMonitor": ("gql.schema.monitors:StatusMonitor", tables.status_monitors),
    "Conversation": ("gql.schema.conversations:Conversation", tables.conversations),
    "TrackedTerm": ("gql.schema.conversations:TrackedTerm", tables.tracked_terms),
    "Task": ("gql.schema.tasks:Task", tables.tasks),
    "Selection": ("gql.schema.selections:Selection", tables.selections),
    "SavedView": ("gql.schema.views:SavedView", tables.saved_views),
    "Attachment": ("gql.schema.attachments:Attachment", tables.attachments),
    "AttachmentVersion": ("gql.schema.attachments:AttachmentVersion", tables.attachment_versions),
    "PartnerComment": ("gql.schema.attachments:PartnerComment", tables.partner_comments),
}
TABLES: dict[str, Table] = {
    **{name: table for name, (_, table) in NODE_TYPES.items()},
    # Nodes that mutations answer with but node(id:) does not look up: a token is listed by apiTokens only.
    "ApiToken": tables.api_tokens,
    "LeadMatchingSettings": tables.lead_matching_settings,
}
