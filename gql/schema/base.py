from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

import strawberry

from domain.money import in_minor_units
from gql import ids
from gql.errors import ClientError
from persistence.pages import PageRows, Window

F = TypeVar("F", bound=Callable[..., Any])
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


def described_enum(source: type[Enum], name: str, description: str, values: dict[str, str]) -> type[Enum]:
    """A GraphQL enum with the members of a domain enum, each with its description."""
    missing = {m.name for m in source} ^ set(values)
    if missing:
        raise ValueError(f"{name}: describe exactly the members of {source.__name__}; mismatch: {sorted(missing)}")
    members = {m.name: strawberry.enum_value(m.value, description=values[m.name]) for m in source}
    return strawberry.enum(Enum(name, members), description=description)  # type: ignore[misc]


def needs(*columns: str) -> Callable[[F], F]:
    """Declare the row columns a resolver reads, so a breadth-first level can select only those."""

    def mark(func: F) -> F:
        func._needs = columns  # type: ignore[attr-defined]
        return func

    return mark


class RowBacked:
    """A type whose objects are database rows as they are read (a node, or a part of one such as a
    transcript segment)."""

    @classmethod
    def from_row(cls, row: Any) -> Any:
        """Wrap a database row without copying field by field (the hot path of every read)."""
        if row is None:
            return None
        obj = cls.__new__(cls)
        obj.__dict__ = dict(zip(row._fields, row))
        return obj

    @classmethod
    def from_rows(cls, rows: Iterable[Any], fields: tuple[str, ...] | None = None) -> list[Any]:
        """`fields`: the rows' column names when the caller knows them (asking each row costs)."""
        new, result = cls.__new__, []
        for row in rows:
            if fields is None:
                fields = row._fields
            obj = new(cls)
            obj.__dict__ = dict(zip(fields, row))
            result.append(obj)
        return result


@strawberry.interface(description="An object with a globally unique, opaque id (Relay global object identification).")
class Node(RowBacked):
    graphql_type: ClassVar[str] = ""

    @strawberry.field(description="The globally unique, opaque id of this object; pass it to `node(id:)`.")
    @needs("id")
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode(self.graphql_type, self.__dict__["id"]))

    @property
    def pk(self) -> int:
        return self.__dict__["id"]


@strawberry.type(description="An amount of money in one currency.")
class Money:
    amount: Decimal = strawberry.field(
        description='The amount as a decimal string in the currency\'s minor units, e.g. "1250.00" EUR, "1200" JPY, '
        '"1.250" BHD (never a float).'
    )
    currency: str = strawberry.field(description="ISO 4217 currency code, e.g. EUR.")


class MoneyValue(NamedTuple):
    """What Money fields return: a tuple is the cheapest object Python builds, and a large read
    builds one for every price in it. Strawberry resolves `amount` and `currency` by attribute."""

    amount: Decimal
    currency: str


def money(amount: Decimal | None, currency: str | None) -> Money | None:
    """Every amount the API shows passes here: in the currency's minor units, whatever the column
    keeps (prices are stored with 4 decimals)."""
    if amount is None or currency is None:
        return None
    return MoneyValue(in_minor_units(amount, currency), currency)  # type: ignore[return-value]


@strawberry.type(description="Where a page of a connection lies in the whole list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="True when more items follow this page.")
    has_previous_page: bool = strawberry.field(description="True when items come before this page.")
    start_cursor: str | None = strawberry.field(description="The cursor of the first item of this page.")
    end_cursor: str | None = strawberry.field(description="The cursor of the last item of this page.")


T = TypeVar("T")


@strawberry.type(description="An item of a connection with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass it to `after` or `before` to page from this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, with cursors (Relay connection).")
class Connection(Generic[T]):
    page: strawberry.Private[PageRows]
    node_type: strawberry.Private[type]
    count_query: strawberry.Private[Any] = None

    @strawberry.field(description="The items of this page with their cursors.")
    def edges(self) -> list[Edge[T]]:
        start = self.page.start
        nodes = self.node_type.from_rows(self.page.rows, self.page.fields)
        return [Edge(cursor=encode_cursor(start + i), node=node) for i, node in enumerate(nodes)]

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[T]:
        return self.node_type.from_rows(self.page.rows, self.page.fields)

    @strawberry.field(description="Where this page lies in the whole list.")
    def page_info(self) -> PageInfo:
        rows, start = self.page.rows, self.page.start
        return PageInfo(
            has_next_page=self.page.has_next,
            has_previous_page=self.page.has_previous,
            start_cursor=encode_cursor(start) if rows else None,
            end_cursor=encode_cursor(start + len(rows) - 1) if rows else None,
        )

    @strawberry.field(description="How many items the whole list has, with the filter applied.")
    async def total_count(self) -> int:
        if self.page.total is None:
            self.page.total = await self.count_query()
        return self.page.total


def encode_cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"cursor:{index}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, argument: str) -> int:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii")).decode()
        prefix, _, index = text.partition(":")
        value = int(index)
        if prefix != "cursor" or value < 0:
            raise ValueError
        return value
    except (ValueError, UnicodeError):
        raise ClientError(f"`{argument}` is not a cursor of this list: {cursor!r}", code="INVALID_CURSOR") from None


def window(first: int | None, after: str | None, last: int | None, before: str | None) -> Window:
    """Validate Relay paging arguments: at most one of first/last, each within 0..MAX_PAGE_SIZE."""
    if first is not None and last is not None:
        raise ClientError("pass either `first` or `last`, not both", code="INVALID_PAGE")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise ClientError(
                f"`{name}` must be between 0 and {MAX_PAGE_SIZE}, got {value}",
                code="INVALID_PAGE",
                maximum=MAX_PAGE_SIZE,
            )
    if first is None and last is None:
        first = DEFAULT_PAGE_SIZE
    return Window(
        first=first,
        last=last,
        after=decode_cursor(after, "after") if after is not None else None,
        before=decode_cursor(before, "before") if before is not None else None,
    )
