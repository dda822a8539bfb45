from __future__ import annotations

from enum import Enum

import strawberry

from domain import enums
from domain.routing import SplitterMode
from gql.schema.base import described_enum
from gql.schema.keys import key_scalar

Role = described_enum(
    enums.Role,
    "Role",
    "What a user may do and see.",
    {
        "ADMIN": "Everything except other users' private accounts.",
        "SALES_DIRECTOR": "The data of their team, and scoreboards.",
        "SALES_REP": "Their own data and global data.",
    },
)

AccountKind = key_scalar(
    "AccountKind",
    "The type of an account: a key of the configurable account types (`settings.accountTypes`; built in: PERSON, "
    "named by first and last name, ORGANIZATION and LOGIN). Written as a name (`kind: PERSON`) or a string; "
    "answered as the key string. Was an enum: the same names keep working.",
)

CategoryGroup = described_enum(
    enums.CategoryGroup,
    "CategoryGroup",
    "The group of an account's category.",
    {
        "PROSPECT": "A possible customer; its contacts show a lead status.",
        "CUSTOMER": "A paying customer.",
        "OTHER": "Neither prospect nor customer (supplier, press, …).",
    },
)

LeadStatus = described_enum(
    enums.LeadStatus,
    "LeadStatus",
    "Where a lead (or a prospect contact) stands.",
    {
        "OPEN": "New, not yet worked on.",
        "CONTACTING": "A seller is trying to reach them.",
        "QUALIFIED": "Qualified: an opportunity was created.",
        "DISQUALIFIED": "Not a fit; a reason is recorded.",
        "REWORK": "To be followed up later.",
    },
)

ContactKind = described_enum(
    enums.ContactKind,
    "ContactKind",
    "The built-in kind a contact type is based on.",
    {
        "EMPLOYEE": "A person working at an account.",
        "CONSULTANT": "A person working at a partner.",
    },
)

CampaignStatus = key_scalar(
    "CampaignStatus",
    "A campaign's status: a key of the configurable campaign statuses (`settings.campaignStatuses`; built in: "
    "ACTIVE, and ARCHIVED, which is archived). Written as a name (`status: ACTIVE`) or a string; answered as "
    "the key string. Was an enum: the same names keep working.",
)

# Stages are rows an admin edits (`settings { stages }`): the former enum is a scalar of their keys.
Stage = key_scalar(
    "Stage",
    "The key of an opportunity stage (`settings { stages { key name kind } }` lists them, in order). Seeded: "
    "PROSPECTING, QUALIFICATION, PROPOSAL, NEGOTIATION (OPEN kind), WON (WON kind), LOST (LOST kind); an admin "
    'may add others. Written as an enum literal (`stage: PROPOSAL`) or a string (`"PROPOSAL"`); answered as '
    "the key string. Formerly an enum with the same values (see the README on configurable lists).",
)

ProductCategory = key_scalar(
    "ProductCategory",
    "What kind of thing a product is, and so the category of the contracts it is sold in: a key of the "
    "configurable contract categories (`settings.contractCategories`; built in: IMPLEMENTATION_SERVICE, "
    "SOFTWARE, SUPPORT_SERVICE, HARDWARE, TRAINING, OTHER). Written as a name (`category: SOFTWARE`) or a "
    "string; answered as the key string. Was an enum: the same names keep working.",
)

ContractKind = described_enum(
    enums.ContractKind,
    "ContractKind",
    "How long a contract runs.",
    {
        "ONE_TIME": "A purchase, with no end date.",
        "TIME_BASED": "A period of service (licence, warranty, support) with start and end.",
    },
)

ContractStatus = described_enum(
    enums.ContractStatus,
    "ContractStatus",
    "The state of a contract.",
    {
        "ACTIVE": "In force.",
        "EXPIRED": "Past its end date.",
        "CANCELLED": "Ended early.",
    },
)

ActivityAttachment = described_enum(
    Enum("ActivityAttachmentName", {n: n for n in ("ACCOUNT", "OPPORTUNITY", "CONTACT", "LEAD", "PARTNER")}),
    "ActivityAttachment",
    "What a sales activity is attached to (on an account's timeline: the account itself, one of its "
    "opportunities or one of its contacts).",
    {
        "ACCOUNT": "Attached to an account (on an account's timeline: to that account itself).",
        "OPPORTUNITY": "Attached to an opportunity.",
        "CONTACT": "Attached to a contact: the person's own.",
        "LEAD": "Attached to a lead.",
        "PARTNER": "Attached to a partner.",
    },
)

ActivityType = key_scalar(
    "ActivityType",
    "The type of a sales activity: a key of the configurable activity types (`settings.activityTypes`; built "
    "in: CALL, EMAIL, MEETING, TASK, FOLLOW_UP, REQUEST). Written as a name (`type: MEETING`) or a string; "
    "answered as the key string. Was an enum: the same names keep working.",
)


@strawberry.enum(description="Open or closed, as a filter over stages.")
class OpportunityStatus(Enum):
    OPEN = strawberry.enum_value("OPEN", description="In one of the open stages.")
    WON = strawberry.enum_value("WON", description="Closed and won.")
    LOST = strawberry.enum_value("LOST", description="Closed and lost.")


@strawberry.enum(description="The direction of an ordering.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest first (A to Z, oldest first).")
    DESC = strawberry.enum_value("DESC", description="Largest first (Z to A, newest first).")


ConversationKind = described_enum(
    enums.ConversationKind,
    "ConversationKind",
    "What kind of recorded conversation.",
    {
        "PHONE_CALL": "A phone call.",
        "ONLINE_MEETING": "An online meeting (Teams, Zoom, Meet …).",
        "MEETING": "A meeting in person.",
    },
)

ConversationSide = described_enum(
    enums.Side,
    "ConversationSide",
    "Who a speaker of a conversation speaks for.",
    {
        "SELLER": "The selling company (its users, or a partner's consultants).",
        "CUSTOMER": "The customer (the account's people).",
    },
)

ConversationLanguage = described_enum(
    enums.Language,
    "ConversationLanguage",
    "A language whose transcripts are analysed.",
    {"DA": "Danish.", "NO": "Norwegian (Bokmål).", "SV": "Swedish.", "EN": "English."},
)

TrackedTermKind = described_enum(
    enums.TermKind,
    "TrackedTermKind",
    "What a tracked term is.",
    {
        "KEYWORD": "A keyword: a product, a topic, a need (e.g. STL, 3D printer, discount).",
        "COMPETITOR": "A competitor or a competing product (e.g. Contoso 360).",
    },
)

SentimentLabel = described_enum(
    enums.SentimentLabel,
    "SentimentLabel",
    "The feeling of what was said.",
    {
        "POSITIVE": "Positive: satisfaction, interest, praise.",
        "NEUTRAL": "Neither clearly positive nor clearly negative.",
        "NEGATIVE": "Negative: complaints, problems, doubts.",
    },
)

SentimentSource = described_enum(
    enums.SentimentSource,
    "SentimentSource",
    "Where a segment's sentiment comes from.",
    {
        "UPSTREAM": "The recording system sent it with the transcript (preferred to ours).",
        "SCORER": "Salesgraph's own scorer (offline word lists for Danish, Norwegian, Swedish and English).",
    },
)

LeadSplitterMode = described_enum(
    SplitterMode,
    "LeadSplitterMode",
    "How a lead splitter divides leads among its users.",
    {
        "QUOTA": "Each lead goes to one seller; sellers take leads by weight (50/30/20 converging).",
        "SHARE": "The guide's sharing splitter: each lead is shared among all its users, the weights being "
        "percentages of the credit adding up to 100 (33/33/34); the lead goes to the largest share's user and the "
        "scoreboard counts each user's percentage of the deal it becomes.",
    },
)
