"""Files attached to accounts, opportunities and price books, with their versions, and comments on partners."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gql import ids
from gql.schema.base import Node, needs
from gql.schema.fields import to_many, to_one
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
