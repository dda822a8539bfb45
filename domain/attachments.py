"""Files attached to an account, an opportunity or a price book: an attachment is one named file, each upload
of it a new version (the older ones stay readable), stored like quote documents (the bytes in the database)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.base import Entity, required
from domain.errors import ValidationError

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_FILE_NAME = 300
# What a sales file is: office documents, PDFs, images, plain text and CSV, and archives of them. Anything else
# (an executable, HTML that a browser would run) is refused, whatever its name says.
CONTENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/rtf",
        "application/zip",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "text/plain",
        "text/csv",
    }
)
ATTACHED_TO = ("account_id", "opportunity_id", "price_book_id")


def content_type_of(value: str | None) -> str:
    """The media type without parameters, lower case: `text/plain; charset=utf-8` → `text/plain`."""
    return (value or "").split(";")[0].strip().lower()


def check_file(file_name: str, content_type: str, size: int) -> tuple[str, str]:
    """The file name and media type of an upload, or a ValidationError naming the limit it breaks."""
    name = required(file_name, "file").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise ValidationError("file", "the file has no name")
    if len(name) > MAX_FILE_NAME:
        raise ValidationError("file", f"a file name is at most {MAX_FILE_NAME} characters long")
    media = content_type_of(content_type)
    if media not in CONTENT_TYPES:
        raise ValidationError(
            "file",
            f"files of type {media or 'unknown'!r} are not accepted; the types are {', '.join(sorted(CONTENT_TYPES))}",
        )
    if size == 0:
        raise ValidationError("file", "the file is empty")
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            "file", f"a file is at most {MAX_ATTACHMENT_BYTES} bytes ({MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB)"
        )
    return name, media


@dataclass(kw_only=True)
class Attachment(Entity):
    """A named file on exactly one account, opportunity or price book; its content is in its versions."""

    name: str
    account_id: int | None = None
    opportunity_id: int | None = None
    price_book_id: int | None = None
    latest_version: int = 0
    created_by_user_id: int | None = None
    created_by_partner_id: int | None = None

    def __post_init__(self) -> None:
        self.name = required(self.name, "name")
        if len(self.name) > MAX_FILE_NAME:
            raise ValidationError("name", f"is at most {MAX_FILE_NAME} characters long")
        if sum(getattr(self, column) is not None for column in ATTACHED_TO) != 1:
            raise ValidationError("on", "an attachment is on exactly one account, opportunity or price book")


@dataclass(kw_only=True)
class AttachmentVersion(Entity):
    """One upload of an attachment: version 1 is the first; every one stays downloadable until the attachment
    is deleted."""

    attachment_id: int
    number: int
    file_name: str
    content_type: str
    content: bytes
    size: int = 0
    created_by_user_id: int | None = None
    created_by_partner_id: int | None = None

    def __post_init__(self) -> None:
        self.file_name, self.content_type = check_file(self.file_name, self.content_type, len(self.content))
        self.size = len(self.content)
