"""Lead identity: whether an incoming lead is someone already known, as a lead, a contact or an account.

Keys compared (each can be switched off, and matching as a whole, in LeadMatchingSettings):
- EMAIL: the e-mail address, case-insensitively.
- PHONE: the digits of the number, a leading international "00" read as "+" (so "+47 22 33 44 55",
  "0047-22334455" and "+47 (22) 33 44 55" are one number; a number without its country code is another).
- COMPANY: the company's name lower-cased, without punctuation, accents kept, and without a trailing
  legal form (AS, ASA, AB, GmbH, Ltd, Inc, LLC, Oy, ApS, SA, BV, …): "Fjordkraft Logistikk AS" and
  "fjordkraft logistikk" are one company. A lead's company is compared with accounts' names and other
  leads' companies.
A lead matches the earliest other lead (not merged away) sharing a key, and the earliest contact and
account sharing one; the lead is linked to them and flagged, never silently duplicated."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum

from domain.base import Entity

SETTINGS_ID = 1
LEGAL_FORMS = frozenset(
    {
        "as",
        "asa",
        "ab",
        "abp",
        "gmbh",
        "ag",
        "ltd",
        "limited",
        "inc",
        "llc",
        "plc",
        "oy",
        "oyj",
        "aps",
        "a/s",
        "sa",
        "sas",
        "sarl",
        "bv",
        "nv",
        "srl",
        "spa",
        "corp",
        "co",
        "company",
        "ks",
        "da",
        "ans",
        "sia",
        "ou",
        "uab",
    }
)
_PUNCTUATION = re.compile(r"[^\w/]+", re.UNICODE)


class MatchKey(str, Enum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    COMPANY = "COMPANY"


def email_key(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value or None


def phone_key(value: str | None) -> str | None:
    """The number's digits, "+" first for an international one ("00" read as "+"); None for fewer than 6."""
    if not value:
        return None
    text = value.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    international = text.startswith("+") or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    if len(digits) < 6:
        return None
    return ("+" if international else "") + digits


def company_key(value: str | None) -> str | None:
    """The name lower-cased (NFKC), punctuation to spaces, the trailing legal forms dropped."""
    if not value:
        return None
    text = unicodedata.normalize("NFKC", value).lower().replace("&", " and ")
    words = [w.strip("/") for w in _PUNCTUATION.sub(" ", text).split()]
    words = [w for w in words if w]
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    key = " ".join(words)
    return key or None


@dataclass(kw_only=True)
class LeadMatchingSettings(Entity):
    """Whether incoming leads are matched with known leads, contacts and accounts, and by which keys."""

    enabled: bool = True
    by_email: bool = True
    by_phone: bool = True
    by_company: bool = True

    def keys(self) -> frozenset[MatchKey]:
        if not self.enabled:
            return frozenset()
        chosen = ((MatchKey.EMAIL, self.by_email), (MatchKey.PHONE, self.by_phone), (MatchKey.COMPANY, self.by_company))
        return frozenset(key for key, on in chosen if on)


@dataclass(frozen=True)
class Identity:
    """What a lead can be recognised by: its keys (None where it has none or the key is switched off)."""

    email: str | None = None
    phone: str | None = None
    company: str | None = None

    @classmethod
    def of(cls, keys: frozenset[MatchKey], email: str | None, phone: str | None, company: str | None) -> Identity:
        return cls(
            email_key(email) if MatchKey.EMAIL in keys else None,
            phone_key(phone) if MatchKey.PHONE in keys else None,
            company_key(company) if MatchKey.COMPANY in keys else None,
        )

    def __bool__(self) -> bool:
        return any((self.email, self.phone, self.company))


@dataclass(frozen=True)
class Known:
    """A known lead, contact or account found by some of an identity's keys (the earliest of each kind)."""

    kind: str  # "Lead", "Contact" or "Account"
    id: int
    reasons: tuple[MatchKey, ...]


@dataclass
class Matches:
    """A lead's matches as stored: the lead, contact and account it matched, each with the keys why."""

    lead_id: int | None = None
    contact_id: int | None = None
    account_id: int | None = None
    reasons: dict[str, list[str]] = field(default_factory=dict)  # {"Lead": ["EMAIL"], ...}

    @classmethod
    def of(cls, found: list[Known]) -> Matches:
        matches = cls()
        for known in sorted(found, key=lambda k: (k.kind, k.id)):
            column = {"Lead": "lead_id", "Contact": "contact_id", "Account": "account_id"}[known.kind]
            if getattr(matches, column) is None:
                setattr(matches, column, known.id)
                matches.reasons[known.kind] = sorted(r.value for r in known.reasons)
        return matches
