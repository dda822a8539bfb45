from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    ADMIN = "ADMIN"
    SALES_DIRECTOR = "SALES_DIRECTOR"
    SALES_REP = "SALES_REP"


class AccountKind(str, Enum):
    PERSON = "PERSON"
    ORGANIZATION = "ORGANIZATION"
    LOGIN = "LOGIN"


class CategoryGroup(str, Enum):
    PROSPECT = "PROSPECT"
    CUSTOMER = "CUSTOMER"
    OTHER = "OTHER"


class LeadStatus(str, Enum):
    OPEN = "OPEN"
    CONTACTING = "CONTACTING"
    QUALIFIED = "QUALIFIED"
    DISQUALIFIED = "DISQUALIFIED"
    REWORK = "REWORK"


class ContactKind(str, Enum):
    EMPLOYEE = "EMPLOYEE"
    CONSULTANT = "CONSULTANT"


class CampaignStatus(str, Enum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class Stage(str, Enum):
    """The keys of the opportunity stages every database is seeded with. Stages are rows (domain/stages.py):
    no rule asks these names whether a deal is open or closed; that is its stage's kind."""

    PROSPECTING = "PROSPECTING"
    QUALIFICATION = "QUALIFICATION"
    PROPOSAL = "PROPOSAL"
    NEGOTIATION = "NEGOTIATION"
    WON = "WON"
    LOST = "LOST"


class ProductCategory(str, Enum):
    IMPLEMENTATION_SERVICE = "IMPLEMENTATION_SERVICE"
    SOFTWARE = "SOFTWARE"
    SUPPORT_SERVICE = "SUPPORT_SERVICE"
    HARDWARE = "HARDWARE"
    TRAINING = "TRAINING"
    OTHER = "OTHER"


class ContractKind(str, Enum):
    ONE_TIME = "ONE_TIME"
    TIME_BASED = "TIME_BASED"


class ContractStatus(str, Enum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


class ActivityType(str, Enum):
    CALL = "CALL"
    EMAIL = "EMAIL"
    MEETING = "MEETING"
    TASK = "TASK"
    FOLLOW_UP = "FOLLOW_UP"
    REQUEST = "REQUEST"


class ConversationKind(str, Enum):
    PHONE_CALL = "PHONE_CALL"
    ONLINE_MEETING = "ONLINE_MEETING"
    MEETING = "MEETING"


class Side(str, Enum):
    """Who a speaker in a conversation speaks for."""

    SELLER = "SELLER"
    CUSTOMER = "CUSTOMER"


class Language(str, Enum):
    """The languages whose transcripts are analysed (ISO 639-1; Norwegian means Bokmål)."""

    DA = "da"
    NO = "no"
    SV = "sv"
    EN = "en"


class TermKind(str, Enum):
    KEYWORD = "KEYWORD"
    COMPETITOR = "COMPETITOR"


class SentimentLabel(str, Enum):
    POSITIVE = "POSITIVE"
    NEUTRAL = "NEUTRAL"
    NEGATIVE = "NEGATIVE"


class SentimentSource(str, Enum):
    """Where a segment's sentiment comes from: the recording system that sent it, or our own scorer."""

    UPSTREAM = "UPSTREAM"
    SCORER = "SCORER"


class TaskPriority(str, Enum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    URGENT = "URGENT"

    @property
    def rank(self) -> int:
        """Its place from least to most urgent (LOW 1 … URGENT 4), for ordering."""
        return list(TaskPriority).index(self) + 1
