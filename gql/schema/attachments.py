"""Files attached to accounts, opportunities and price books, with their versions, and comments on partners."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gql import ids
from gql.schema.base import Node, needs
from gql.schema.events import LoggedEvent
from gql.schema.fields import to_many, to_one
from gql.schema.people import Partner, User
from gql.subscriptions.hub import Event
from persistence import tables

VERSIONS_ORDER = (tables.attachment_versions.c.number.desc(),)


def download_url(pk: int) -> str:
    """Versions are downloaded where quote documents are, with the same token and the same visibility."""
    return f"/documents/{ids.encode('AttachmentVersion', pk)}"


@strawberry.type(
    description="A file attached to an account, an opportunity or a price book. Each upload of it is a version; "
    "`versions` lists them all, newest first, and every one stays downloadable. Upload with `POST /attachments` "
    "(multipart/form-data, see the README); seen by whoever may see the row it is on."
)
class Attachment(Node):
    graphql_type = "Attachment"
    name: str = strawberry.field(description="The attachment's name: the file name of its first upload.")
    latest_version: int = strawberry.field(description="The number of its newest version (1 for the first upload).")
    created_at: datetime = strawberry.field(description="When it was first uploaded.")
    updated_at: datetime = strawberry.field(description="When its newest version was uploaded.")
    version: int = strawberry.field(description="Increases with every change (each new version).")
    account = to_one("gql.schema.accounts:Account", tables.accounts, "account_id", "The account it is on, if any.")
    opportunity = to_one(
        "gql.schema.opportunities:Opportunity",
        tables.opportunities,
        "opportunity_id",
        "The opportunity it is on, if any.",
    )
    price_book = to_one(
        "gql.schema.catalog:PriceBook", tables.price_books, "price_book_id", "The price book it is on, if any."
    )
    created_by = to_one("gql.schema.people:User", tables.users, "created_by_user_id", "The user who first uploaded it.")
    created_by_partner = to_one(
        "gql.schema.people:Partner", tables.partners, "created_by_partner_id", "The partner who first uploaded it."
    )
    versions = to_many(
        "gql.schema.attachments:AttachmentVersion",
        tables.attachment_versions,
        "attachment_id",
        "Every version, newest first.",
        order_by=VERSIONS_ORDER,
    )


@strawberry.type(
    description="One upload of an attachment. Download it with `GET <downloadUrl>` and the same "
    "`Authorization: Bearer` header as for /graphql."
)
class AttachmentVersion(Node):
    graphql_type = "AttachmentVersion"
    number: int = strawberry.field(description="Its number: 1 for the first upload, then 2, 3 …")
    file_name: str = strawberry.field(description="The uploaded file's name.")
    content_type: str = strawberry.field(description="The file's media type, e.g. application/pdf.")
    size: int = strawberry.field(description="The file's size in bytes.")
    created_at: datetime = strawberry.field(description="When it was uploaded.")
    attachment = to_one(
        "gql.schema.attachments:Attachment", tables.attachments, "attachment_id", "The attachment it is a version of."
    )
    created_by = to_one("gql.schema.people:User", tables.users, "created_by_user_id", "The user who uploaded it.")
    created_by_partner = to_one(
        "gql.schema.people:Partner", tables.partners, "created_by_partner_id", "The partner who uploaded it."
    )

    @strawberry.field(description="Where to download the file: a path on this server, /documents/<id>.")
    @needs("id")
    def download_url(self) -> str:
        return download_url(self.pk)


@strawberry.type(description="A user's comment on a partner: read by every user, never by a partner.")
class PartnerComment(Node):
    graphql_type = "PartnerComment"
    body: str = strawberry.field(description="The comment's text.")
    created_at: datetime = strawberry.field(description="When it was written.")
    partner = to_one("gql.schema.people:Partner", tables.partners, "partner_id", "The partner it is about.")
    author = to_one("gql.schema.people:User", tables.users, "author_user_id", "The user who wrote it.")


def attachments_field(column: str, what: str) -> object:
    return to_many(
        "gql.schema.attachments:Attachment",
        tables.attachments,
        column,
        f"Files attached to this {what}, oldest first, each with its versions.",
        order_by=(tables.attachments.c.id,),
    )


@strawberry.enum(description="What happened to an attached file.")
class AttachmentEventKind(Enum):
    UPLOADED = strawberry.enum_value("AttachmentUploaded", description="A file was attached to a row (version 1).")
    VERSION_ADDED = strawberry.enum_value("AttachmentVersionAdded", description="A new version was uploaded.")
    DELETED = strawberry.enum_value(
        "AttachmentDeleted", description="It was deleted with all its versions (`attachment` is null)."
    )


ATTACHMENT_EVENT_TYPES = frozenset(kind.value for kind in AttachmentEventKind)
ON_KEYS = {"Account": "accountId", "Opportunity": "opportunityId", "PriceBook": "priceBookId"}


@strawberry.type(description="Something that happened to an attached file, as it happened.")
class AttachmentEvent(LoggedEvent):
    @strawberry.field(description="What happened.")
    def kind(self) -> AttachmentEventKind:
        return AttachmentEventKind(self.event["type"])

    @strawberry.field(description="The attachment's id (also when it has been deleted since).")
    def attachment_id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Attachment", self.event["entityId"]))

    @strawberry.field(description="The attachment as it is now; null when it no longer exists.")
    async def attachment(self, info: Info) -> Attachment | None:
        return Attachment.from_row(await info.context.by_id(tables.attachments).load(self.event["entityId"]))

    @strawberry.field(description="The id of the account, opportunity or price book the file is on.")
    def on_id(self) -> strawberry.ID:
        data = self.event["data"]
        kind, key = next((kind, data[key]) for kind, key in ON_KEYS.items() if data.get(key))
        return strawberry.ID(ids.encode(kind, key))

    @strawberry.field(description="The attachment's name (its first upload's file name).")
    def name(self) -> str:
        return str(self.event["data"].get("name"))

    @strawberry.field(description="Its newest version's number after the event (1 after the first upload).")
    def version(self) -> int:
        return int(self.event["data"].get("version") or 0)

    @strawberry.field(description="UPLOADED, VERSION_ADDED: the uploaded file's name; null otherwise.")
    def file_name(self) -> str | None:
        return self.event["data"].get("fileName")

    @strawberry.field(description="UPLOADED, VERSION_ADDED: the uploaded file's size in bytes; null otherwise.")
    def size(self) -> int | None:
        return self.event["data"].get("size")

    @strawberry.field(description="The user who made the change (null for a partner).")
    async def actor_user(self, info: Info) -> User | None:
        user_id = self.event.get("actorUserId")
        return User.from_row(await info.context.by_id(tables.users).load(user_id)) if user_id else None

    @strawberry.field(description="The partner who made the change, when a partner did.")
    async def actor_partner(self, info: Info) -> Partner | None:
        partner_id = self.event.get("actorPartnerId")
        return Partner.from_row(await info.context.by_id(tables.partners).load(partner_id)) if partner_id else None


def attachment_events_filter(wanted: set[int] | None, on: set[tuple[str, int]] | None) -> Any:
    """Which events an `attachmentEvents` subscription takes: of these attachments, on these rows."""

    def accepts(event: Event) -> bool:
        if event["type"] not in ATTACHMENT_EVENT_TYPES:
            return False
        if wanted is not None and event["entityId"] not in wanted:
            return False
        data = event.get("data") or {}
        return on is None or any(data.get(ON_KEYS[kind]) == pk for kind, pk in on)

    return accepts
