"""Credit shares: one lead or deal shared among co-workers by percentage (the guide's sharing splitter,
"33 % per each of 3 users"). Pure.

A lead or an opportunity without shares credits its owner (an opportunity) in full. With shares, each
user holds a whole percentage (1 to 100) and the percentages add up to 100; the scoreboard counts each
user's percentage of the deal and of its amount. Shares are kept on the row as one canonical text,
`"7:34,9:33,12:33"` (by user id), so that reading a deal reads its shares with it: a deal without shares
costs no statement more anywhere (the bucket tracker, qualification), and deals with equal shares group
together in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from domain.errors import ValidationError, ref

WHOLE = 100  # percent
MAX_SHARES = 20


class Share(NamedTuple):
    user_id: int
    percent: int


def check(shares: Sequence[Share], field: str = "shares") -> tuple[Share, ...]:
    """The shares in user order, or a ValidationError on `field`: at least two users, each once, each a whole
    percentage from 1 to 100, adding up to 100."""
    if len(shares) < 2:
        raise ValidationError(field, "share among two users or more (no shares: the owner has the whole credit)")
    if len(shares) > MAX_SHARES:
        raise ValidationError(field, f"at most {MAX_SHARES} users share one lead or deal")
    users = [s.user_id for s in shares]
    doubles = sorted({u for u in users if users.count(u) > 1})
    if doubles:
        twice = ", ".join(f"user {ref('User', u)}" for u in doubles)
        raise ValidationError(field, f"each user has one share; twice: {twice}")
    for share in shares:
        if not 1 <= share.percent <= WHOLE:
            raise ValidationError(field, f"a share is a whole percentage from 1 to 100, not {share.percent}")
    total = sum(s.percent for s in shares)
    if total != WHOLE:
        raise ValidationError(field, f"the shares add up to {total} %, not 100 %")
    return tuple(sorted(shares))


def encode(shares: Iterable[Share] | None) -> str | None:
    """The canonical text of checked shares (None: no shares)."""
    if not shares:
        return None
    return ",".join(f"{s.user_id}:{s.percent}" for s in sorted(shares))


def decode(text: str | None) -> tuple[Share, ...]:
    """The shares of a canonical text (empty: none)."""
    if not text:
        return ()
    found = []
    for part in text.split(","):
        user, percent = part.split(":")
        found.append(Share(int(user), int(percent)))
    return tuple(found)


def credited(owner_id: int, text: str | None) -> tuple[Share, ...]:
    """Who is credited with a deal of this owner and these shares: the shares, or the owner in full."""
    return decode(text) or (Share(owner_id, WHOLE),)
