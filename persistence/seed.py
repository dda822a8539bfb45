"""Deterministic demo data: a coherent sales company for a given number of opportunities.

Everything is built through the domain classes (so the invariants hold) and inserted in
bulk with explicit ids inside one transaction; the same size and anchor give the same rows,
byte for byte. `anchor` is "now" for every generated date (default: today 00:00 UTC)."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import Table, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tqdm import tqdm

from domain.accounts import Account, AccountGroup, Contact, ContactType
from domain.activities import Goal, SalesActivity
from domain.catalog import Bundle, BundleComponent, ExchangeRate, PriceBook, PriceEntry, Product, ProductUnit
from domain.contracts import Contract, add_months
from domain.criteria import CriteriaEntity
from domain.custom_fields import CustomFieldDefinition, CustomFieldType
from domain.enums import (
    AccountKind,
    ActivityType,
    CampaignStatus,
    CategoryGroup,
    ContactKind,
    ContractKind,
    ContractStatus,
    LeadStatus,
    ProductCategory,
    Role,
    Stage,
    TaskPriority,
)
from domain.leads import Campaign, Lead
from domain.lists import ListName, ListValue
from domain.money import Money
from domain.opportunities import BusinessRole, Opportunity
from domain.people import Partner, Team, User
from domain.quotes import Quote, QuoteItem, quote_total
from domain.tasks import Task
from persistence import aggregates, conversation_aggregates, tables
from persistence.rows import to_row
from persistence.seed_conversations import ConversationSeeder, Deal, seed_tables

SIZES = {"small": 200, "medium": 10_000, "large": 100_000}
CHUNK = 2_000  # opportunities built (with their quotes, contracts, activities) per batch
INSERT_CHUNK = 5_000  # rows per INSERT executemany
# Tables written with COPY on PostgreSQL when large (plain columns only: no JSON, every row the same keys).
COPIED = frozenset(
    {"conversation_participants", "conversation_segments", "conversation_mentions", "conversation_names"}
)
ADMIN_EMAIL = "admin@salesgraph.example"
PARTNER_EMAIL = "portal@nordicpartners.example"
HISTORY_DAYS = 540  # opportunities are spread over the 18 months before the anchor


def parse_size(text_or_number: str | int) -> int:
    """small / medium / large or a positive number of opportunities (underscores allowed: 25_000)."""
    if isinstance(text_or_number, int):
        value = text_or_number
    else:
        word = str(text_or_number).strip().lower()
        if word in SIZES:
            return SIZES[word]
        try:
            value = int(word.replace("_", ""))
        except ValueError:
            raise ValueError(
                f"size {text_or_number!r}: use small, medium, large or a number of opportunities "
                "(200, 10000, 100000 or N >= 1)"
            ) from None
    if value < 1:
        raise ValueError(f"size {text_or_number!r}: the number of opportunities must be at least 1")
    return value


@dataclass
class SeedSummary:
    """Rows inserted per table, and the demo admin and partner (tokens are issued for them)."""

    counts: dict[str, int] = field(default_factory=dict)
    admin_user_id: int = 1
    partner_id: int = 1


class SeedError(RuntimeError):
    pass


FIRST = [
    "Ada",
    "Bjørn",
    "Camilla",
    "Dag",
    "Elin",
    "Frida",
    "Gustav",
    "Hanne",
    "Ivar",
    "Jonas",
    "Karin",
    "Lars",
    "Maja",
    "Nils",
    "Oda",
    "Per",
    "Ragnhild",
    "Sven",
    "Tove",
    "Ulf",
    "Vera",
    "Astrid",
    "Erik",
    "Ingrid",
    "Magnus",
    "Sofie",
    "Henrik",
    "Liv",
    "Anders",
    "Mette",
]
LAST = [
    "Andersen",
    "Berg",
    "Christensen",
    "Dahl",
    "Eriksson",
    "Fjeld",
    "Hansen",
    "Holm",
    "Johansson",
    "Karlsen",
    "Larsen",
    "Lind",
    "Madsen",
    "Nilsen",
    "Olsen",
    "Pedersen",
    "Rasmussen",
    "Sandberg",
    "Strand",
    "Svensson",
    "Solberg",
    "Vik",
    "Wallin",
    "Aas",
    "Bakke",
    "Lund",
]
PREFIX = [
    "Fjord",
    "Nord",
    "Aurora",
    "Viking",
    "Polar",
    "Skagen",
    "Midnatt",
    "Granitt",
    "Birk",
    "Havblikk",
    "Isbre",
    "Lyng",
    "Saga",
    "Tind",
    "Vinter",
    "Ask",
    "Elv",
    "Furu",
    "Kyst",
    "Stjerne",
    "Storm",
    "Dal",
    "Bølge",
    "Lys",
]
SUFFIX = [
    "Energi",
    "Logistikk",
    "Data",
    "Bygg",
    "Helse",
    "Marin",
    "Finans",
    "Medier",
    "Robotics",
    "Foods",
    "Analytics",
    "Systems",
    "Solutions",
    "Consulting",
    "Industri",
    "Retail",
    "Software",
    "Shipping",
]
FORM = {"NO": "AS", "SE": "AB", "DK": "A/S", "FI": "Oy", "DE": "GmbH", "GB": "Ltd", "NL": "B.V."}
CITIES = {
    "NO": ["Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø"],
    "SE": ["Stockholm", "Göteborg", "Malmö", "Uppsala"],
    "DK": ["København", "Aarhus", "Odense", "Aalborg"],
    "FI": ["Helsinki", "Espoo", "Tampere"],
    "DE": ["Hamburg", "Berlin", "München"],
    "GB": ["London", "Manchester", "Edinburgh"],
    "NL": ["Amsterdam", "Rotterdam", "Utrecht"],
}
COUNTRIES = ["NO", "NO", "NO", "SE", "SE", "DK", "DK", "FI", "DE", "GB", "NL"]
INDUSTRIES = [
    "Energy",
    "Logistics",
    "Healthcare",
    "Finance",
    "Retail",
    "Manufacturing",
    "Media",
    "Public sector",
    "Shipping",
    "Software",
]
CATEGORIES = {
    CategoryGroup.PROSPECT: ["Prospect", "Hot prospect"],
    CategoryGroup.CUSTOMER: ["Customer", "Key customer"],
    CategoryGroup.OTHER: ["Supplier", "Press", "Competitor"],
}
PARTNER_NAMES = [
    "Nordic Partners AS",
    "Baltic Reseller AB",
    "Kattegat Consulting A/S",
    "Helsinki Integrators Oy",
    "North Sea Solutions Ltd",
    "Alpine Channel GmbH",
    "Polder Partners B.V.",
    "Arctic Services AS",
]
TEAM_NAMES = ["Team Norway", "Team Sweden", "Team Denmark", "Team Finland", "Team Enterprise", "Team Partners"]
SEGMENTS = ["SMB", "Mid-market", "Enterprise"]  # the accounts' custom fields (choices)
SOURCES = ["web", "partner", "event"]
LOSS_REASONS = ["Price too high", "Chose a competitor", "No budget this year", "Project cancelled", "No decision"]
DISQUALIFY_REASONS = ["Not a fit", "Student", "Competitor", "No budget", "Duplicate"]
ROLES = ["Decision maker", "Champion", "Technical evaluator", "Economic buyer", "Influencer"]
RATES = {"EUR": "1", "USD": "0.92", "NOK": "0.087", "SEK": "0.088", "DKK": "0.134", "GBP": "1.17"}
PRICE_FACTOR = {"EUR": Decimal(1), "USD": Decimal("1.08"), "NOK": Decimal("11.5")}
PRODUCTS = [  # name, code, category, units: (name, recurring months or None, EUR price)
    (
        "Salesgraph Cloud",
        "SG-CLOUD",
        ProductCategory.SOFTWARE,
        [("licence/month, 12 months", 12, "45"), ("licence/month, 36 months", 36, "39")],
    ),
    ("Salesgraph On-Premise", "SG-ONPREM", ProductCategory.SOFTWARE, [("perpetual licence", None, "1200")]),
    ("Mobile add-on", "SG-MOBILE", ProductCategory.SOFTWARE, [("subscription, 12 months", 12, "120")]),
    ("Analytics add-on", "SG-ANALYTICS", ProductCategory.SOFTWARE, [("subscription, 12 months", 12, "240")]),
    (
        "Marketing automation",
        "SG-MARKETING",
        ProductCategory.SOFTWARE,
        [("subscription, 12 months", 12, "600"), ("subscription, 36 months", 36, "540")],
    ),
    ("Partner portal", "SG-PORTAL", ProductCategory.SOFTWARE, [("subscription, 12 months", 12, "900")]),
    ("Integration kit", "SG-INTEGRATION", ProductCategory.SOFTWARE, [("piece", None, "2500")]),
    ("Implementation, standard", "IMPL-STD", ProductCategory.IMPLEMENTATION_SERVICE, [("project", None, "8000")]),
    ("Implementation, enterprise", "IMPL-ENT", ProductCategory.IMPLEMENTATION_SERVICE, [("project", None, "25000")]),
    ("Consulting day", "CONS-DAY", ProductCategory.IMPLEMENTATION_SERVICE, [("day", None, "1100")]),
    ("Data migration", "IMPL-MIGRATE", ProductCategory.IMPLEMENTATION_SERVICE, [("project", None, "5000")]),
    ("Custom reports", "IMPL-REPORTS", ProductCategory.IMPLEMENTATION_SERVICE, [("report", None, "750")]),
    ("Support Basic", "SUP-BASIC", ProductCategory.SUPPORT_SERVICE, [("support, 12 months", 12, "1500")]),
    (
        "Support Premium",
        "SUP-PREMIUM",
        ProductCategory.SUPPORT_SERVICE,
        [("support, 12 months", 12, "4800"), ("support, 36 months", 36, "4200")],
    ),
    ("Extended warranty", "SUP-WARRANTY", ProductCategory.SUPPORT_SERVICE, [("warranty, 24 months", 24, "300")]),
    ("Health check", "SUP-HEALTH", ProductCategory.SUPPORT_SERVICE, [("visit", None, "900")]),
    ("Barcode scanner", "HW-SCANNER", ProductCategory.HARDWARE, [("piece", None, "350")]),
    ("Rugged tablet", "HW-TABLET", ProductCategory.HARDWARE, [("piece", None, "890")]),
    ("Meeting-room kit", "HW-ROOMKIT", ProductCategory.HARDWARE, [("piece", None, "2400")]),
    ("Label printer", "HW-PRINTER", ProductCategory.HARDWARE, [("piece", None, "420")]),
    ("Admin course", "TRN-ADMIN", ProductCategory.TRAINING, [("seat", None, "650")]),
    ("User course", "TRN-USER", ProductCategory.TRAINING, [("seat", None, "290")]),
    ("E-learning", "TRN-ELEARN", ProductCategory.TRAINING, [("seat, 12 months", 12, "120")]),
    ("Travel and expenses", "OTHER-TRAVEL", ProductCategory.OTHER, [("lump sum", None, "500")]),
    ("Setup fee", "OTHER-SETUP", ProductCategory.OTHER, [("piece", None, "250")]),
]
PROBABILITY = {
    Stage.PROSPECTING: 10,
    Stage.QUALIFICATION: 25,
    Stage.PROPOSAL: 50,
    Stage.NEGOTIATION: 75,
    Stage.WON: 100,
    Stage.LOST: 0,
}
CLOSED = (Stage.WON, Stage.LOST)  # the seeded stages' kinds (migration 0019), fixed for a deterministic seed
CAMPAIGN_NAMES = [
    "Spring webinar",
    "Trade fair Oslo",
    "LinkedIn ads",
    "Partner roadshow",
    "Newsletter",
    "Customer day",
    "Google ads",
    "Nordic CRM summit",
]
DEAL_NAMES = ["New licences", "Expansion", "Renewal", "Pilot", "Upgrade", "Support deal", "Rollout"]
SUBJECTS = {
    ActivityType.CALL: "Call about next steps",
    ActivityType.EMAIL: "Sent material",
    ActivityType.MEETING: "Meeting with the team",
    ActivityType.TASK: "Prepare proposal",
    ActivityType.FOLLOW_UP: "Follow up on quote",
    ActivityType.REQUEST: "Question about licences",
}
BUNDLE_PARTS = (("SG-CLOUD", Decimal(50)), ("IMPL-STD", Decimal(30)), ("SUP-BASIC", Decimal(20)))
TASK_TITLES = {
    "account_id": ["Plan the annual review", "Check the renewal date", "Update the billing address"],
    "contact_id": ["Call back about the invoice", "Send the product sheet", "Invite to the customer day"],
    "opportunity_id": ["Send the revised offer", "Book a demo", "Confirm the budget", "Chase the signed quote"],
    "lead_id": ["Call to qualify", "Send the introduction e-mail", "Find the decision maker"],
}


class _Company:
    """Builds the rows table by table; ids are assigned here, in creation order."""

    def __init__(self, n: int, anchor: datetime) -> None:
        self.n, self.anchor = n, anchor
        self.today = anchor.date()
        self.rng = random.Random(f"salesgraph-{n}")
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.next_id: dict[str, int] = {}
        self.activities_made = 0
        # Tasks draw from their own generator: the rows made before tasks existed stay the same.
        self.task_rng = random.Random(f"salesgraph-tasks-{n}")
        # The people's own activities (issue 17) draw from their own generator, so adding them left the rest
        # of the demo as it was.
        self.people_rng = random.Random(f"salesgraph-people-{n}")
        self.won_eur: dict[int, Decimal] = {}
        self.won_deals: dict[int, int] = {}
        # Opportunities that came from a lead: (opportunity id, account id, created, campaign, owner, partner).
        self.lead_sources: list[tuple[int, int, datetime, int | None, int, int | None]] = []
        # Each opportunity for the demo conversations: its account, owner and when it was worked on.
        self.deals: list[Deal] = []
        self.user_names: dict[int, str] = {}

    # helpers -------------------------------------------------------------------------------
    def add(self, table: Table, entity: Any, **extra: Any) -> int:
        new_id = self.next_id.get(table.name, 1)
        self.next_id[table.name] = new_id + 1
        entity.id = new_id
        if table is tables.users:
            self.user_names[new_id] = entity.name
        row = to_row(entity)
        row.update(extra)
        row["id"] = new_id
        self.rows.setdefault(table.name, []).append(row)
        return new_id

    def link(self, table: Table, **row: Any) -> None:
        self.rows.setdefault(table.name, []).append(row)

    def at(self, days_ago: float) -> datetime:
        return self.anchor - timedelta(seconds=int(days_ago * 86400))

    @staticmethod
    def stamps(when: datetime, updated: datetime | None = None) -> dict[str, datetime]:
        return {"created_at": when, "updated_at": updated or when}

    def person(self) -> tuple[str, str]:
        return self.rng.choice(FIRST), self.rng.choice(LAST)

    @staticmethod
    def slug(text_: str) -> str:
        table_ = str.maketrans(
            {"ø": "o", "å": "a", "æ": "ae", "ö": "o", "ä": "a", "ü": "u", " ": "", "/": "", ".": "", ",": ""}
        )
        return text_.lower().translate(table_)

    def campaign_at(self, when: datetime) -> int | None:
        """A campaign that had started by `when` (the most recent ones are the likeliest)."""
        started = [c for c, starts in self.campaign_starts if starts <= when.date()]
        if not started:
            return None
        return started[-1 - min(len(started) - 1, int(self.rng.expovariate(0.7)))]

    # the company ---------------------------------------------------------------------------
    def people(self) -> None:
        reps = max(6, round(self.n / 400))
        teams = min(6, max(3, reps // 5))
        for i in range(teams):
            self.add(tables.teams, Team(name=TEAM_NAMES[i], **self.stamps(self.at(720))))
        self.admin_id = self.add(
            tables.users, User(name="Ada Admin", email=ADMIN_EMAIL, role=Role.ADMIN, **self.stamps(self.at(720)))
        )
        self.directors: list[int] = []
        for team_id in range(1, teams + 1):
            first, last = self.person()
            self.directors.append(
                self.add(
                    tables.users,
                    User(
                        name=f"{first} {last}",
                        email=f"director{team_id}@salesgraph.example",
                        role=Role.SALES_DIRECTOR,
                        team_id=team_id,
                        **self.stamps(self.at(715)),
                    ),
                )
            )
        self.reps: list[int] = []
        for i in range(reps):
            first, last = self.person()
            self.reps.append(
                self.add(
                    tables.users,
                    User(
                        name=f"{first} {last}",
                        email=f"{self.slug(first)}.{i + 1}@salesgraph.example",
                        role=Role.SALES_REP,
                        team_id=i % teams + 1,
                        **self.stamps(self.at(710 - i % 100)),
                    ),
                )
            )

    def goals(self) -> None:
        """Monthly goals for the last 6 months and this one, near what each rep has been winning."""
        rng = self.rng
        month = self.today.replace(day=1)
        months = Decimal(HISTORY_DAYS) / Decimal(30)
        for uid in self.reps:
            usual_revenue = self.won_eur.get(uid, Decimal(0)) / months
            usual_deals = self.won_deals.get(uid, 0) / float(months)
            for back in range(6, -1, -1):
                start = add_months(month, -back)
                end = add_months(start, 1) - timedelta(days=1)
                stretch = Decimal(rng.randint(85, 130)) / 100
                target = max(Decimal(10_000), (usual_revenue * stretch / 1000).to_integral_value() * 1000)
                deals = max(1, round(usual_deals * float(stretch)))
                set_at = datetime.combine(add_months(start, -1), time(9), UTC) + timedelta(days=24)
                self.add(
                    tables.goals,
                    Goal(
                        user_id=uid,
                        period_start=start,
                        period_end=end,
                        target_revenue=Money(target, "EUR"),
                        target_deals=deals,
                        **self.stamps(min(set_at, self.anchor)),
                    ),
                )

    def catalog(self) -> None:
        for currency, rate in RATES.items():
            rate_ = ExchangeRate(currency=currency, rate=Decimal(rate))
            self.link(tables.exchange_rates, currency=rate_.currency, rate=rate_.rate, updated_at=self.at(1))
        self.units: list[dict[str, Any]] = []
        unit_of_code: dict[str, int] = {}
        for name, code, category, units in PRODUCTS:
            product_id = self.add(
                tables.products,
                Product(
                    name=name,
                    code=code,
                    category=category,
                    description=f"{name} ({category.value.replace('_', ' ').lower()})",
                    **self.stamps(self.at(720)),
                ),
            )
            for unit_name, months, price in units:
                unit_id = self.add(
                    tables.product_units,
                    ProductUnit(
                        product_id=product_id,
                        name=unit_name,
                        recurring=months is not None,
                        period_months=months,
                        **self.stamps(self.at(720)),
                    ),
                )
                unit_of_code.setdefault(code, unit_id)
                self.units.append(
                    {
                        "id": unit_id,
                        "product_id": product_id,
                        "name": unit_name,
                        "months": months,
                        "price": Decimal(price),
                        "product": name,
                        "category": category,
                    }
                )
        # Last year's list and this year's update of it (named after the anchor's years).
        year = self.anchor.year
        regions = ["NO", "SE", "DK", "FI", "GB", "EU"]  # every country the demo accounts are in
        first_since = self.at(HISTORY_DAYS + 20)
        first_book = self.add(
            tables.price_books,
            PriceBook(
                name=f"Price list {year - 1}",
                description="List prices for the Nordics and Europe",
                brands=["Salesgraph"],
                product_versions=[f"{year - 1}.1"],
                regions=regions,
                **self.stamps(first_since),
            ),
        )
        second_since = datetime(year - 1, 12, 1, tzinfo=UTC)
        second_book = self.add(
            tables.price_books,
            PriceBook(
                name=f"Price list {year}",
                description=f"Update of the {year - 1} list: prices up 5 %",
                brands=["Salesgraph"],
                product_versions=[f"{year}.1"],
                regions=regions,
                is_update=True,
                previous_id=first_book,
                **self.stamps(second_since),
            ),
        )
        self.books: dict[int, dict[tuple[int, str], Decimal]] = {first_book: {}, second_book: {}}
        self.book_since = [(first_book, first_since, f"{year - 1}.1"), (second_book, second_since, f"{year}.1")]
        for (book_id, since, _), uplift in zip(self.book_since, (Decimal("1.00"), Decimal("1.05"))):
            for unit in self.units:
                for currency, factor in PRICE_FACTOR.items():
                    price = Money(unit["price"] * factor * uplift, currency).rounded()
                    self.add(
                        tables.price_entries,
                        PriceEntry(price_book_id=book_id, unit_id=unit["id"], price=price, **self.stamps(since)),
                    )
                    self.books[book_id][(unit["id"], currency)] = price.amount
        parts = [BundleComponent(unit_id=unit_of_code[code], weight=weight) for code, weight in BUNDLE_PARTS]
        bundle = Bundle(
            price_book_id=second_book,
            name="Cloud starter bundle",
            code="BND-STARTER",
            components=parts,
            **self.stamps(second_since),
        )
        bundle_id = self.add(tables.bundles, bundle)
        for part in bundle.components:
            self.link(tables.bundle_components, bundle_id=bundle_id, unit_id=part.unit_id, weight=part.weight)

    def agreement_book(self) -> None:
        """A price book for the agreement with one customer (the first account, always a public organisation):
        this year's list prices less 10 %, in every currency, linked to that account alone. Draws nothing from
        the random generator, so the rest of the demo is the same with it."""
        customer = min(a for a, info in self.account_info.items() if info["kind"] is AccountKind.ORGANIZATION)
        book_id, since, version = self.book_since[-1]
        agreement = self.add(
            tables.price_books,
            PriceBook(
                name=f"Price list {self.anchor.year}, framework agreement",  # (by name, after the lists)
                description="This year's list prices less 10 % for one customer, by its framework agreement",
                brands=["Salesgraph"],
                product_versions=[version],
                **self.stamps(since),
            ),
        )
        for (unit_id, currency), amount in sorted(self.books[book_id].items()):
            price = Money(amount * Decimal("0.9"), currency).rounded()
            self.add(
                tables.price_entries,
                PriceEntry(price_book_id=agreement, unit_id=unit_id, price=price, **self.stamps(since)),
            )
        self.link(tables.price_book_accounts, price_book_id=agreement, account_id=customer)
        self.agreement = (agreement, customer)

    def partners_and_campaigns(self) -> None:
        rng = self.rng
        self.partners: list[int] = []
        for i in range(max(3, 3 + self.n // 2000)):
            name = PARTNER_NAMES[i % len(PARTNER_NAMES)] + (
                "" if i < len(PARTNER_NAMES) else f" {i // len(PARTNER_NAMES) + 1}"
            )
            email = PARTNER_EMAIL if i == 0 else f"contact@{self.slug(name.split()[0])}{i}.example"
            self.partners.append(
                self.add(
                    tables.partners,
                    Partner(
                        name=name,
                        email=email,
                        phone=f"+47 2{i:03d} 4000",
                        country=rng.choice(COUNTRIES),
                        **self.stamps(self.at(650)),
                    ),
                )
            )
        for name, kind in [
            ("Employee", ContactKind.EMPLOYEE),
            ("Consultant", ContactKind.CONSULTANT),
            ("Decision maker", ContactKind.EMPLOYEE),
            ("Technical contact", ContactKind.EMPLOYEE),
        ]:
            self.add(tables.contact_types, ContactType(name=name, kind=kind, **self.stamps(self.at(720))))
        self.consultants: dict[int, list[int]] = {}
        for partner_id in self.partners:
            self.consultants[partner_id] = []
            for _ in range(rng.randint(2, 3)):
                first, last = self.person()
                self.consultants[partner_id].append(
                    self.add(
                        tables.contacts,
                        Contact(
                            first_name=first,
                            last_name=last,
                            contact_type_id=2,
                            partner_id=partner_id,
                            email=f"{self.slug(first)}.{self.slug(last)}@partner{partner_id}.example",
                            phone=f"+47 4{rng.randint(1000000, 9999999)}",
                            title="Consultant",
                            **self.stamps(self.at(600)),
                        ),
                    )
                )
        # One campaign a month or so, oldest first, covering the whole history; the older ones archived.
        self.campaigns: list[int] = []
        self.campaign_starts: list[tuple[int, date]] = []
        count = 6 + self.n // 5000
        for i in range(count):
            start = self.today - timedelta(days=10 + (HISTORY_DAYS * (count - 1 - i)) // max(1, count - 1))
            name = (
                CAMPAIGN_NAMES[i % len(CAMPAIGN_NAMES)]
                + f" {start.year}"
                + (f" #{i + 1}" if i >= len(CAMPAIGN_NAMES) else "")
            )
            ends = start + timedelta(days=rng.randint(7, 60))
            status = (
                CampaignStatus.ARCHIVED
                if (ends < self.today - timedelta(days=120) and i % 3 != 1)
                else CampaignStatus.ACTIVE
            )
            campaign_id = self.add(
                tables.campaigns,
                Campaign(
                    name=name,
                    status=status,
                    costs=Money(Decimal(rng.randrange(5, 80) * 500), "EUR"),
                    starts_on=start,
                    ends_on=ends,
                    **self.stamps(datetime.combine(start, time(9), UTC) - timedelta(days=14)),
                ),
            )
            self.campaigns.append(campaign_id)
            self.campaign_starts.append((campaign_id, start))
        self.campaign_names = {cid: self.rows[tables.campaigns.name][cid - 1]["name"] for cid in self.campaigns}

    def accounts(self) -> None:
        rng = self.rng
        count = max(40, self.n // 5)
        self.account_info: dict[int, dict[str, Any]] = {}
        self.contacts_of: dict[int, list[int]] = {}
        self.contact_names: dict[int, tuple[str, str, str | None]] = {}
        organizations: list[int] = []
        ages = sorted((rng.uniform(HISTORY_DAYS + 20, 720) for _ in range(count)), reverse=True)  # ids follow time
        for i, age in enumerate(ages):
            country = rng.choice(COUNTRIES)
            roll = rng.random()
            kind = AccountKind.PERSON if roll < 0.15 else AccountKind.LOGIN if roll < 0.19 else AccountKind.ORGANIZATION
            if i < 3:
                kind = [AccountKind.ORGANIZATION, AccountKind.PERSON, AccountKind.LOGIN][i]
            group = rng.choice(
                [
                    CategoryGroup.PROSPECT,
                    CategoryGroup.PROSPECT,
                    CategoryGroup.CUSTOMER,
                    CategoryGroup.CUSTOMER,
                    CategoryGroup.CUSTOMER,
                    CategoryGroup.OTHER,
                ]
            )
            manager = rng.choice(self.reps)
            is_private = kind is AccountKind.PERSON and rng.random() < 0.15
            is_global = not is_private and rng.random() < 0.2
            created = self.at(age)
            parent_id = (
                rng.choice(organizations)
                if organizations and kind is AccountKind.ORGANIZATION and rng.random() < 0.1
                else None
            )
            partner_id = (
                (self.partners[0] if i % 25 == 3 else rng.choice(self.partners)) if i % 12 == 3 or i % 25 == 3 else None
            )
            city = rng.choice(CITIES[country])
            common = dict(
                kind=kind,
                country=country,
                city=city,
                industry=rng.choice(INDUSTRIES),
                manager_id=manager,
                category_group=group,
                category=rng.choice(CATEGORIES[group]),
                is_global=is_global,
                is_private=is_private,
                created_by_id=manager,
                parent_id=parent_id,
                partner_id=partner_id,
                phone=f"+{rng.randint(30, 49)} {rng.randint(10000000, 99999999)}",
                street=f"{rng.choice(LAST)}gata {rng.randint(1, 120)}",
                postal_code=f"{rng.randint(1000, 9999)}",
                comment="Prefers e-mail over phone calls." if rng.random() < 0.1 else None,
                **self.stamps(created),
            )
            if kind is AccountKind.PERSON:
                first, last = self.person()
                account = Account(
                    first_name=first,
                    last_name=last,
                    email=f"{self.slug(first)}.{self.slug(last)}{i}@mail.example",
                    **common,
                )
            else:
                name = f"{rng.choice(PREFIX)} {rng.choice(SUFFIX)}" + (
                    f" {FORM[country]}" if kind is AccountKind.ORGANIZATION else " portal"
                )
                is_org = kind is AccountKind.ORGANIZATION
                account = Account(
                    name=name,
                    organization=name if is_org else None,
                    email=f"post@{self.slug(name.split()[0])}{i}.example",
                    registration_no=f"{rng.randint(900000000, 999999999)}" if is_org else None,
                    vat_no=f"{country}{rng.randint(100000000, 999999999)}" if is_org else None,
                    key_account=is_org and rng.random() < 0.1,
                    custom_fields={
                        "segment": rng.choice(SEGMENTS),
                        "source": rng.choice(SOURCES),
                    },
                    **common,
                )
            account_id = self.add(tables.accounts, account)
            self.account_info[account_id] = {
                "private": is_private,
                "manager": manager,
                "partner": partner_id,
                "kind": kind,
                "name": account.name,
                "first": account.first_name,
                "last": account.last_name,
                "email": account.email,
                "country": country,
            }
            self.contacts_of[account_id] = []
            if kind is AccountKind.ORGANIZATION:
                organizations.append(account_id)
                for c in range(rng.randint(2, 4)):
                    first, last = self.person()
                    if group is CategoryGroup.PROSPECT:
                        status = rng.choice(list(LeadStatus))
                    else:  # hidden outside PROSPECT, but kept: what it was when the account was a prospect
                        status = LeadStatus.QUALIFIED if group is CategoryGroup.CUSTOMER else LeadStatus.OPEN
                    email = f"{self.slug(first)}.{self.slug(last)}@{self.slug(account.name.split()[0])}{i}.example"
                    contact_id = self.add(
                        tables.contacts,
                        Contact(
                            first_name=first,
                            last_name=last,
                            contact_type_id=[1, 3, 4][c % 3],
                            account_id=account_id,
                            email=email,
                            phone=f"+{rng.randint(30, 49)} {rng.randint(10000000, 99999999)}",
                            skype=f"{self.slug(first)}.{self.slug(last)}" if rng.random() < 0.2 else None,
                            title=rng.choice(["CEO", "CFO", "CTO", "Head of Sales", "IT manager", "Buyer"]),
                            lead_status=status,
                            **self.stamps(created),
                        ),
                    )
                    self.contacts_of[account_id].append(contact_id)
                    self.contact_names[contact_id] = (first, last, email)
        ids = list(self.account_info)
        links: list[tuple[int, int]] = []
        for _ in range(max(2, count // 20)):
            pair = tuple(rng.sample(ids, 2))
            if pair not in links:
                links.append(pair)
        for a, b in links:
            self.link(tables.account_links, account_id=a, linked_account_id=b)
        for name in ("Nordic enterprise", "Public sector", "Reference customers", "Event invitees"):
            group_id = self.add(tables.account_groups, AccountGroup(name=name, **self.stamps(self.at(500))))
            for account_id in sorted(rng.sample(ids, max(3, count // 5))):
                self.link(tables.account_group_members, group_id=group_id, account_id=account_id)
        for user_id in [self.admin_id, *self.directors[:1], *self.reps[:5]]:
            for account_id in sorted(rng.sample(ids, min(len(ids), 8))):
                self.link(tables.account_favourites, user_id=user_id, account_id=account_id)
        self.account_ids = ids

    def opportunity_plan(self) -> list[int]:
        """The account of each opportunity: 1 to 10 per account (5 on average), grouped by account."""
        rng = self.rng
        ids = self.account_ids
        if self.n <= len(ids):
            counts = [1] * self.n + [0] * (len(ids) - self.n)
        else:
            counts = [rng.randint(1, 9) for _ in ids]
            cap = max(10, -(-self.n // len(ids)))
            missing = self.n - sum(counts)
            while missing:
                i = rng.randrange(len(ids))
                if missing > 0 and counts[i] < cap:
                    counts[i] += 1
                    missing -= 1
                elif missing < 0 and counts[i] > 1:
                    counts[i] -= 1
                    missing += 1
        plan: list[int] = []
        for account_id, count in zip(ids, counts):
            plan += [account_id] * count
        return plan

    # opportunities and what hangs off them ---------------------------------------------------
    def opportunity(self, index: int, account_id: int) -> None:
        rng = self.rng
        info = self.account_info[account_id]
        if index < len(Stage):  # every stage, whatever the size
            stage = list(Stage)[index]
            age = rng.uniform(130, HISTORY_DAYS) if stage in CLOSED else rng.uniform(1, 120)
        else:
            age = rng.uniform(1, HISTORY_DAYS)
            if age > 120:
                stage = rng.choices([Stage.WON, Stage.LOST, Stage.NEGOTIATION, Stage.PROPOSAL], [50, 35, 8, 7])[0]
            else:
                stage = rng.choices(list(Stage), [25, 20, 15, 12, 16, 12])[0]
        created = self.at(age)
        currency = rng.choices(["EUR", "USD", "NOK"], [80, 10, 10])[0]
        closed_at = None
        if stage in CLOSED:  # 10 to 120 days after it was opened, and never after the anchor
            days = rng.uniform(10, 120)
            closed_at = created + timedelta(days=days if days < age else rng.uniform(0, age))
        stage_changed = closed_at or created + timedelta(days=rng.uniform(0, age))
        owner = info["manager"] if rng.random() < 0.7 else rng.choice(self.reps)
        partner_id = (
            info["partner"]
            if info["partner"] and rng.random() < 0.8
            else (rng.choice(self.partners) if rng.random() < 0.04 else None)
        )
        from_lead = index == 0 or rng.random() < 0.12
        campaign_id = self.campaign_at(created) if rng.random() < (0.7 if from_lead else 0.15) else None
        opp_id = self.next_id.get(tables.opportunities.name, 1)
        active_total, last_total, sold = self.quotes(opp_id, stage, currency, created, closed_at or self.anchor)
        if last_total is not None:  # the estimate follows the latest quote
            estimate = Money(last_total.amount * Decimal(rng.randint(90, 115)) / 100, currency)
            estimate = Money((estimate.amount / 100).to_integral_value() * 100, currency)
        else:
            estimate = Money(Decimal(rng.randrange(20, 1500) * 100) * PRICE_FACTOR[currency], currency).rounded()
        opportunity = Opportunity(
            name=f"{rng.choice(DEAL_NAMES)} {created.year}",
            account_id=account_id,
            owner_id=owner,
            stage=stage,
            estimated_revenue=estimate,
            probability=PROBABILITY[stage],
            expected_close_date=(created + timedelta(days=rng.randint(30, 150))).date(),
            partner_id=partner_id,
            campaign_id=campaign_id,
            locked=stage is Stage.WON,
            closed_at=closed_at,
            actual_revenue=active_total if stage is Stage.WON else None,
            loss_reason=rng.choice(LOSS_REASONS) if stage is Stage.LOST else None,
            stage_changed_at=stage_changed,
            **self.stamps(created, stage_changed),
        )
        self.add(tables.opportunities, opportunity)
        self.deals.append(Deal(opp_id, account_id, owner, created, min(closed_at or self.anchor, self.anchor)))
        if from_lead:
            self.lead_sources.append((opp_id, account_id, created, campaign_id, owner, partner_id))
        if stage is Stage.WON:
            self.won_eur[owner] = self.won_eur.get(owner, Decimal(0)) + active_total.amount * Decimal(RATES[currency])
            self.won_deals[owner] = self.won_deals.get(owner, 0) + 1
            self.contracts(opp_id, account_id, closed_at, sold)
        contacts = self.contacts_of[account_id]
        if contacts and rng.random() < 0.3:
            for contact_id in sorted(rng.sample(contacts, min(len(contacts), rng.randint(1, 2)))):
                self.add(
                    tables.business_roles,
                    BusinessRole(
                        opportunity_id=opp_id, contact_id=contact_id, role=rng.choice(ROLES), **self.stamps(created)
                    ),
                )
        if rng.random() < 0.1:
            other = rng.choice(self.account_ids)
            if other != account_id:
                self.link(tables.opportunity_related_accounts, opportunity_id=opp_id, account_id=other)
        for k in range(rng.randint(1, 5)):
            self.activity(
                created,
                closed_at or self.anchor,
                owner,
                open_deal=stage not in CLOSED and k == 0,
                opportunity_id=opp_id,
            )
        if self.task_rng.random() < (0.1 if stage in CLOSED else 0.35):
            # The owner sees the deal, unless it is on a private account, which only its creator sees.
            assignee = info["manager"] if info["private"] else owner
            self.task(assignee, created, opportunity_id=opp_id)

    def quotes(
        self, opp_id: int, stage: Stage, currency: str, created: datetime, until: datetime
    ) -> tuple[Money | None, Money | None, list[tuple[QuoteItem, dict[str, Any] | None]]]:
        """Adds the opportunity's quotes; returns the active quote's total, the latest quote's total
        and the active quote's items with their units."""
        rng = self.rng
        needs_active = stage in (Stage.PROPOSAL, Stage.NEGOTIATION, Stage.WON)
        count = rng.randint(0, 1) if stage is Stage.PROSPECTING else rng.randint(1, 3)
        active_total = last_total = None
        sold: list[tuple[QuoteItem, dict[str, Any] | None]] = []
        for q in range(count):
            active = needs_active and q == count - 1
            when = created + timedelta(days=q * 3 + 1)
            if when >= until:  # a deal opened or closed within days: its quotes fit in between
                when = created + (until - created) * (q + 1) / (count + 1)
            books = [(book, version) for book, since, version in self.book_since if since <= when]
            book, version = (
                (books[-1] if rng.random() < 0.85 else books[0]) if books and rng.random() < 0.8 else (None, None)
            )
            quote = Quote(
                opportunity_id=opp_id,
                name=f"Quote {q + 1}",
                currency=currency,
                price_book_id=book,
                brand="Salesgraph" if book else None,
                product_version=version,
                valid_from=when.date(),
                valid_until=when.date() + timedelta(days=30),
                is_active=active,
                **self.stamps(when),
            )
            quote_id = self.add(tables.quotes, quote)
            items: list[tuple[QuoteItem, dict[str, Any] | None]] = []
            for position, unit in enumerate(rng.sample(self.units, rng.randint(2, 8))):
                quantity = Decimal(rng.randint(1, 50) if unit["months"] else rng.randint(1, 10))
                discount = Decimal(rng.choice([0, 0, 0, 5, 10, 15]))
                if book:
                    item = QuoteItem(
                        quote_id=quote_id,
                        name=unit["product"],
                        quantity=quantity,
                        currency=currency,
                        unit_price=self.books[book][(unit["id"], currency)],
                        discount_percent=discount,
                        product_id=unit["product_id"],
                        unit_id=unit["id"],
                        unit_name=unit["name"],
                        position=position,
                        **self.stamps(when),
                    )
                else:  # a manual item: no product, a negotiated price
                    price = Money(unit["price"] * PRICE_FACTOR[currency] * Decimal("0.9"), currency).rounded().amount
                    item = QuoteItem(
                        quote_id=quote_id,
                        name=f"{unit['product']} (manual)",
                        quantity=quantity,
                        currency=currency,
                        unit_price=price,
                        discount_percent=discount,
                        unit_name=unit["name"],
                        position=position,
                        **self.stamps(when),
                    )
                self.add(tables.quote_items, item)
                items.append((item, unit if book else None))
            if not active and rng.random() < 0.05:  # round a draft's total down to a whole hundred
                total = quote_total([i for i, _ in items], currency).amount
                rounded = (total / 100).to_integral_value(rounding=ROUND_FLOOR) * 100
                if rounded != total:
                    rounding = QuoteItem(
                        quote_id=quote_id,
                        name="Rounding",
                        quantity=Decimal(1),
                        unit_price=rounded - total,
                        currency=currency,
                        position=len(items),
                        is_rounding=True,
                        **self.stamps(when),
                    )
                    self.add(tables.quote_items, rounding)
                    items.append((rounding, None))
            last_total = quote_total([i for i, _ in items], currency)
            if active:
                active_total = last_total
                sold = items
        return active_total, last_total, sold

    def contracts(
        self, opp_id: int, account_id: int, closed_at: datetime, sold: list[tuple[QuoteItem, dict[str, Any] | None]]
    ) -> None:
        start = closed_at.date()
        for item, unit in sold:
            months = unit["months"] if unit else None
            ends = add_months(start, months) if months else None
            status = ContractStatus.EXPIRED if ends and ends < self.today else ContractStatus.ACTIVE
            self.add(
                tables.contracts,
                Contract(
                    account_id=account_id,
                    opportunity_id=opp_id,
                    name=item.name,
                    kind=ContractKind.TIME_BASED if months else ContractKind.ONE_TIME,
                    quantity=item.quantity,
                    value=Money(item.total, item.currency),
                    starts_on=start,
                    ends_on=ends,
                    product_id=item.product_id,
                    quote_item_id=item.id,
                    category=unit["category"] if unit else None,
                    status=status,
                    **self.stamps(closed_at),
                ),
            )

    def activity(self, since: datetime, until: datetime, owner: int, open_deal: bool = False, **target: int) -> None:
        """One activity between `since` and `until`; on an open deal, often one planned ahead."""
        rng = self.rng
        types = list(ActivityType)
        kind = types[self.activities_made] if self.activities_made < len(types) else rng.choice(types)
        self.activities_made += 1
        span = max(0.0, (until - since).total_seconds() / 86400)
        if open_deal and rng.random() < 0.7:
            created = min(self.anchor, since + timedelta(days=rng.uniform(0, span)))
            due = self.anchor + timedelta(days=rng.uniform(1, 30))
            done, occurred = False, None
        else:
            due = since + timedelta(days=rng.uniform(0, min(span, 60)))
            created = due - timedelta(days=rng.uniform(0, 5)) if due - timedelta(days=5) > since else since
            done = rng.random() < 0.8
            occurred = due if done else None
        self.add(
            tables.sales_activities,
            SalesActivity(
                type=kind,
                subject=SUBJECTS[kind],
                owner_id=owner,
                notes=None if rng.random() < 0.5 else "Notes from the conversation.",
                due_at=due,
                occurred_at=occurred,
                done=done,
                duration_minutes=rng.choice([15, 30, 45, 60, 90]),
                **target,
                **self.stamps(created, occurred or created),
            ),
        )

    def task(self, assignee: int, since: datetime, by_partner: int | None = None, **target: int) -> None:
        """A task on `target` for `assignee` (who may see it), made after `since`: about a quarter done, a
        fifth overdue (open, due before the anchor), most others due within a month, a few with no due time."""
        rng = self.task_rng
        created = max(since, self.anchor - timedelta(days=rng.uniform(1, 40)))
        roll = rng.random()
        done, completed, due = False, None, None
        if roll < 0.25:
            completed = min(self.anchor, created + timedelta(days=rng.uniform(0, 10)))
            done, due = True, completed + timedelta(days=rng.uniform(-2, 3))
        elif roll < 0.45:
            due = max(created, self.anchor - timedelta(days=rng.uniform(0.5, 14)))
        elif roll < 0.9:
            due = self.anchor + timedelta(days=rng.uniform(0.5, 30))
        [column] = target
        self.add(
            tables.tasks,
            Task(
                title=rng.choice(TASK_TITLES[column]),
                notes="Agreed in the last call." if rng.random() < 0.3 else None,
                due_at=due,
                priority=rng.choices(list(TaskPriority), [20, 50, 20, 10])[0],
                assignee_id=assignee,
                done=done,
                completed_at=completed,
                completed_by_user_id=assignee if done else None,
                created_by_user_id=None if by_partner else assignee,
                created_by_partner_id=by_partner,
                **target,
                **self.stamps(created, completed or created),
            ),
        )

    def account_tasks(self) -> None:
        """Tasks on every fourth account (some created by its partner) and every sixth contact, for the
        account's manager (who may see them: a private account's manager is its creator)."""
        rng = self.task_rng
        for account_id in self.account_ids[1::4]:
            info = self.account_info[account_id]
            by_partner = info["partner"] if info["partner"] and rng.random() < 0.5 else None
            self.task(info["manager"], self.at(60), by_partner, account_id=account_id)
        contacts = [(c, a) for a, found in self.contacts_of.items() for c in found]
        for contact_id, account_id in sorted(contacts)[2::6]:
            self.task(self.account_info[account_id]["manager"], self.at(60), contact_id=contact_id)

    def contact_categories(self) -> list[dict[str, Any]]:
        """The demo's account categories as contact categories (the other lists hold the values migration 0019
        inserts), lead status switched on for the prospect categories (SuperOffice's "activate lead status"),
        off for the others. Rows without ids: they follow the migration's rows."""
        stamps = self.stamps(self.anchor - timedelta(days=400))
        names = [(name, group) for group, found in CATEGORIES.items() for name in found]
        return [
            {
                **{
                    k: v
                    for k, v in to_row(
                        ListValue(
                            list_name=ListName.CONTACT_CATEGORY,
                            key=name,
                            label=name,
                            position=position,
                            lead_status=group is CategoryGroup.PROSPECT,
                        )
                    ).items()
                    if k != "id"
                },
                **stamps,
            }
            for position, (name, group) in enumerate(names)
        ]

    def custom_field_definitions(self) -> None:
        """The accounts' two custom fields (keys from before definitions existed, hence lower case)."""
        choices = {"segment": ("Segment", SEGMENTS), "source": ("Source", SOURCES)}
        for position, (key, (label, options)) in enumerate(choices.items()):
            self.add(
                tables.custom_field_definitions,
                CustomFieldDefinition(
                    entity_type=CriteriaEntity.ACCOUNT,
                    key=key,
                    label=label,
                    type=CustomFieldType.CHOICE,
                    options=list(options),
                    position=position,
                ),
                **self.stamps(self.anchor - timedelta(days=700)),
            )

    def contact_activities(self) -> None:
        """A call or meeting with every fifth employee (the person's own activity), done, owned by the
        account's manager."""
        rng = self.people_rng
        contacts = sorted((c, a) for a, found in self.contacts_of.items() for c in found)
        for contact_id, account_id in contacts[1::5]:
            kind = rng.choice([ActivityType.CALL, ActivityType.MEETING])
            occurred = self.at(rng.uniform(1, 200))
            self.add(
                tables.sales_activities,
                SalesActivity(
                    type=kind,
                    subject=SUBJECTS[kind],
                    owner_id=self.account_info[account_id]["manager"],
                    occurred_at=occurred,
                    due_at=occurred,
                    done=True,
                    duration_minutes=rng.choice([15, 30, 45]),
                    contact_id=contact_id,
                    **self.stamps(occurred),
                ),
            )

    def account_and_partner_activities(self) -> None:
        rng = self.rng
        for account_id in self.account_ids[::3]:
            self.activity(
                self.at(rng.uniform(60, 400)),
                self.anchor,
                self.account_info[account_id]["manager"],
                account_id=account_id,
            )
        for partner_id in self.partners:
            self.activity(self.at(rng.uniform(30, 200)), self.anchor, rng.choice(self.reps), partner_id=partner_id)

    # leads (after the opportunities: qualified leads point at what they became) -------------
    def leads(self) -> None:
        rng = self.rng
        total = max(20, self.n // 2)
        sources = self.lead_sources[: total - 4]
        others = [LeadStatus.OPEN, LeadStatus.CONTACTING, LeadStatus.DISQUALIFIED, LeadStatus.REWORK]
        made: list[tuple[datetime, int, Lead]] = []
        for opp_id, account_id, opp_created, campaign_id, owner, partner_id in sources:
            info = self.account_info[account_id]
            contacts = self.contacts_of[account_id]
            contact_id = rng.choice(contacts) if contacts else None
            if contact_id is not None:
                first, last, email = self.contact_names[contact_id]
            else:
                first, last, email = info["first"], info["last"], info["email"]
            created = opp_created - timedelta(days=rng.uniform(1, 30))
            made.append(
                (
                    created,
                    len(made),
                    Lead(
                        first_name=first,
                        last_name=last,
                        company=info["name"] if info["kind"] is not AccountKind.PERSON else None,
                        email=email,
                        country=info["country"],
                        phone=f"+47 9{rng.randint(1000000, 9999999)}",
                        company_size=rng.choice([5, 20, 50, 200, 1000, 5000]),
                        **self.utm(campaign_id),
                        priority=rng.randint(1, 5),
                        assigned_user_id=None if partner_id else owner,
                        assigned_partner_id=partner_id,
                        status=LeadStatus.QUALIFIED,
                        status_changed_at=opp_created,
                        account_id=account_id,
                        contact_id=contact_id,
                        opportunity_id=opp_id,
                        **self.stamps(created, opp_created),
                    ),
                )
            )
        for i in range(total - len(sources)):
            status = others[i] if i < len(others) else rng.choices(others, [30, 25, 30, 15])[0]
            first, last = self.person()
            company = f"{rng.choice(PREFIX)} {rng.choice(SUFFIX)}"
            created = self.at(rng.uniform(0, HISTORY_DAYS))
            assignee = rng.random()
            partner_id = None
            if 0.6 <= assignee < 0.75:
                partner_id = self.partners[0] if i % 3 == 0 else rng.choice(self.partners)
            campaign_id = self.campaign_at(created) if rng.random() < 0.8 else None
            updated = min(self.anchor, created + timedelta(days=rng.uniform(0, 20)))
            made.append(
                (
                    created,
                    len(made),
                    Lead(
                        first_name=first,
                        last_name=last,
                        company=company,
                        country=rng.choice(COUNTRIES),
                        email=f"{self.slug(first)}.{self.slug(last)}{i}@{self.slug(company.split()[0])}.example",
                        phone=f"+47 9{rng.randint(1000000, 9999999)}",
                        company_size=rng.choice([5, 20, 50, 200, 1000, 5000]),
                        **self.utm(campaign_id),
                        priority=rng.randint(0, 5),
                        assigned_user_id=rng.choice(self.reps) if assignee < 0.6 else None,
                        assigned_partner_id=partner_id,
                        status=status,
                        disqualification_reason=rng.choice(DISQUALIFY_REASONS)
                        if status is LeadStatus.DISQUALIFIED
                        else None,
                        archived=rng.random() < (0.3 if status is LeadStatus.DISQUALIFIED else 0.05),
                        status_changed_at=None if status is LeadStatus.OPEN else updated,
                        **self.stamps(created, updated),
                    ),
                )
            )
        made.sort(key=lambda entry: (entry[0], entry[1]))  # ids follow creation time
        for _, _, lead in made:
            self.add(tables.leads, lead)
        for lead_id in range(1, len(made) + 1, 4):
            lead = made[lead_id - 1][2]
            owner = lead.assigned_user_id or rng.choice(self.reps)
            self.activity(
                lead.created_at, min(self.anchor, lead.created_at + timedelta(days=30)), owner, lead_id=lead_id
            )
        for lead_id in range(2, len(made) + 1, 4):
            lead = made[lead_id - 1][2]
            if lead.status in (LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED):
                continue
            # Its user; an unassigned lead (every user sees it) a rep; a partner's lead the admin.
            if lead.assigned_user_id is not None:
                assignee = lead.assigned_user_id
            elif lead.assigned_partner_id is None:
                assignee = self.reps[lead_id % len(self.reps)]
            else:
                assignee = self.admin_id
            self.task(assignee, lead.created_at, lead_id=lead_id)

    def utm(self, campaign_id: int | None) -> dict[str, Any]:
        if campaign_id is None:
            return {
                "campaign_id": None,
                "utm_source": self.rng.choice(["google", "direct", None]),
                "utm_medium": None,
                "utm_campaign": None,
            }
        return {
            "campaign_id": campaign_id,
            "utm_source": self.rng.choice(["google", "linkedin", "newsletter", "event"]),
            "utm_medium": self.rng.choice(["cpc", "email", "social", "referral"]),
            "utm_campaign": self.campaign_names[campaign_id].lower().replace(" ", "-").replace("#", ""),
        }

    def take(self, *tables: Table) -> list[tuple[Table, list[dict[str, Any]]]]:
        return [(table, self.rows.pop(table.name, [])) for table in tables]


BASE_TABLES = [
    tables.teams,
    tables.users,
    tables.exchange_rates,
    tables.products,
    tables.product_units,
    tables.price_books,
    tables.price_entries,
    tables.bundles,
    tables.bundle_components,
    tables.partners,
    tables.contact_types,
    tables.custom_field_definitions,
    tables.campaigns,
    tables.accounts,
    tables.contacts,
    tables.account_links,
    tables.account_groups,
    tables.account_group_members,
    tables.account_favourites,
    tables.price_book_accounts,
    tables.tasks,
]
DEAL_TABLES = [
    tables.opportunities,
    tables.business_roles,
    tables.opportunity_related_accounts,
    tables.quotes,
    tables.quote_items,
    tables.contracts,
    tables.sales_activities,
    tables.tasks,
]
LAST_TABLES = [tables.leads, tables.sales_activities, tables.tasks, tables.goals]


async def _insert(
    conn: AsyncConnection, batches: Iterable[tuple[Table, list[dict[str, Any]]]], counts: dict[str, int]
) -> None:
    for table, rows in batches:
        if rows and conn.dialect.name == "postgresql" and table.name in COPIED and len(rows) > INSERT_CHUNK:
            # COPY: several times faster than INSERT for the millions of segments of a large seed.
            columns = list(rows[0])
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.copy_records_to_table(  # type: ignore[union-attr]
                table.name, records=[tuple(row[c] for c in columns) for row in rows], columns=columns
            )
            counts[table.name] = counts.get(table.name, 0) + len(rows)
            continue
        for start in range(0, len(rows), INSERT_CHUNK):
            await conn.execute(table.insert(), rows[start : start + INSERT_CHUNK])
        counts[table.name] = counts.get(table.name, 0) + len(rows)


class _ProgressLines:
    """Progress for a pipe or a log file, where a bar's carriage returns garble the output: a line per
    phase and per quarter of the opportunities. Called like tqdm."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled, self.marks = total, 0, enabled, [total * q // 4 for q in (1, 2, 3)]
        self.set_description("seeding: company")

    def set_description(self, text: str) -> None:
        self.phase = text
        self._say(text)

    def update(self, count: int) -> None:
        before, self.done = self.done, self.done + count
        if any(before < mark <= self.done for mark in self.marks):
            self._say(f"{self.phase}: {self.done}/{self.total}")

    def close(self) -> None:
        pass

    def _say(self, text: str) -> None:
        if self.enabled:
            print(text, file=sys.stderr, flush=True)


def _progress(total: int, enabled: bool) -> Any:
    if enabled and sys.stderr.isatty():
        return tqdm(total=total, unit="opp", desc="seeding: company", file=sys.stderr)
    return _ProgressLines(total, enabled)


async def seed(
    engine: AsyncEngine,
    size: str | int = "small",
    *,
    anchor: datetime | None = None,
    progress: bool = False,
    conversations: int | None = None,
    distinct_conversations: int | None = None,
) -> SeedSummary:
    """Fill an empty database (tables created) with the demo company for `size` opportunities, and its
    recorded conversations (`conversations`, by default 1.5 per opportunity, at most 20,000; with
    `distinct_conversations`, only that many transcripts, the others copies of them at other times)."""
    n = parse_size(size)
    if anchor is None:
        anchor = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    elif anchor.tzinfo is None:
        raise ValueError("anchor must be an aware datetime (UTC)")
    company = _Company(n, anchor)
    summary = SeedSummary()
    bar = _progress(n, progress)
    try:
        async with engine.begin() as conn:
            existing = (await conn.execute(select(func.count()).select_from(tables.accounts))).scalar_one()
            if existing:
                raise SeedError(
                    f"the database already has accounts ({existing}): seed only fills an empty database; use a new one"
                )
            company.people()
            company.catalog()
            company.partners_and_campaigns()
            company.accounts()
            company.agreement_book()
            company.custom_field_definitions()
            company.account_and_partner_activities()
            company.account_tasks()
            await _insert(conn, company.take(*BASE_TABLES), summary.counts)
            await _insert(conn, [(tables.list_values, company.contact_categories())], summary.counts)
            bar.set_description("seeding: opportunities")
            plan = company.opportunity_plan()
            for start in range(0, n, CHUNK):
                for index in range(start, min(n, start + CHUNK)):
                    company.opportunity(index, plan[index])
                await _insert(conn, company.take(*DEAL_TABLES), summary.counts)
                bar.update(min(CHUNK, n - start))
            bar.set_description("seeding: leads and goals")
            company.leads()
            company.goals()
            company.contact_activities()
            await _insert(conn, company.take(*LAST_TABLES), summary.counts)
            bar.set_description("seeding: scoreboard aggregates")
            summary.counts["aggregate buckets"] = await conn.run_sync(aggregates.rebuild)
            bar.set_description("seeding: conversations")
            seeder = ConversationSeeder(
                n,
                anchor,
                company.deals,
                company.account_info,
                company.contacts_of,
                company.contact_names,
                company.user_names,
                company.reps,
                conversations,
                distinct_conversations,
            )
            built = seeder.build()
            await _insert(conn, [(table, built[table.name]) for table in seed_tables()], summary.counts)
            bar.set_description("seeding: conversation aggregates")
            summary.counts[tables.conversation_buckets.name] = await conn.run_sync(conversation_aggregates.rebuild)
            # Planner statistics for the bulk-loaded tables: without them PostgreSQL chose plans that made
            # the nested benchmark read 6x slower in the database until autovacuum got round to it.
            bar.set_description("seeding: analyze")
            await conn.execute(text("ANALYZE"))
            if conn.dialect.name == "postgresql":
                # The tables of the database's revision (a database at an earlier one lacks the newest).
                existing = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
                for table in tables.metadata.sorted_tables:
                    if "id" in table.c and table.name in existing:
                        await conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), COALESCE(MAX(id), 1)) "
                                f"FROM {table.name}"
                            )
                        )
            bar.set_description("seeded")
    finally:
        bar.close()
    summary.admin_user_id = company.admin_id
    summary.partner_id = company.partners[0]
    return summary
