"""Deterministic demo data: a coherent sales company for a given number of opportunities.

Everything is built through the domain classes (so the invariants hold) and inserted in
bulk with explicit ids; the same size and anchor give the same rows, byte for byte."""
from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.accounts import Account, AccountGroup, Contact, ContactType
from domain.activities import Goal, SalesActivity
from domain.catalog import Bundle, BundleComponent, ExchangeRate, PriceBook, PriceEntry, Product, ProductUnit
from domain.contracts import Contract, add_months
from domain.enums import (
    AccountKind, ActivityType, CampaignStatus, CategoryGroup, ContactKind, ContractKind, ContractStatus,
    LeadStatus, ProductCategory, Role, Stage,
)
from domain.leads import Campaign, Lead
from domain.money import Money
from domain.opportunities import BusinessRole, Opportunity
from domain.people import Partner, Team, User
from domain.quotes import QuoteItem, Quote, quote_total
from persistence import tables as t
from persistence.rows import to_row

SIZES = {"small": 200, "medium": 10_000, "large": 100_000}
CHUNK = 2_000
ADMIN_EMAIL = "admin@salesgraph.example"
PARTNER_EMAIL = "portal@nordicpartners.example"


def parse_size(text_or_number: str | int) -> int:
    """small / medium / large or a positive number of opportunities."""
    if isinstance(text_or_number, int):
        value = text_or_number
    else:
        word = str(text_or_number).strip().lower()
        if word in SIZES:
            return SIZES[word]
        try:
            value = int(word.replace("_", ""))
        except ValueError:
            raise ValueError(f"size {text_or_number!r}: use small, medium, large or a number of opportunities") from None
    if value < 1:
        raise ValueError(f"size {text_or_number!r}: the number of opportunities must be at least 1")
    return value


@dataclass
class SeedSummary:
    counts: dict[str, int] = field(default_factory=dict)
    admin_user_id: int = 1
    partner_id: int = 1


class SeedError(RuntimeError):
    pass


FIRST = ["Ada", "Bjørn", "Camilla", "Dag", "Elin", "Frida", "Gustav", "Hanne", "Ivar", "Jonas", "Karin", "Lars",
         "Maja", "Nils", "Oda", "Per", "Ragnhild", "Sven", "Tove", "Ulf", "Vera", "Astrid", "Erik", "Ingrid",
         "Magnus", "Sofie", "Henrik", "Liv", "Anders", "Mette"]
LAST = ["Andersen", "Berg", "Christensen", "Dahl", "Eriksson", "Fjeld", "Hansen", "Holm", "Johansson", "Karlsen",
        "Larsen", "Lind", "Madsen", "Nilsen", "Olsen", "Pedersen", "Rasmussen", "Sandberg", "Strand", "Svensson",
        "Solberg", "Vik", "Wallin", "Aas", "Bakke", "Lund"]
PREFIX = ["Fjord", "Nord", "Aurora", "Viking", "Polar", "Skagen", "Midnatt", "Granitt", "Birk", "Havblikk", "Isbre",
          "Lyng", "Saga", "Tind", "Vinter", "Ask", "Elv", "Furu", "Kyst", "Stjerne", "Storm", "Dal", "Bølge", "Lys"]
SUFFIX = ["Energi", "Logistikk", "Data", "Bygg", "Helse", "Marin", "Finans", "Medier", "Robotics", "Foods",
          "Analytics", "Systems", "Solutions", "Consulting", "Industri", "Retail", "Software", "Shipping"]
FORM = {"NO": "AS", "SE": "AB", "DK": "A/S", "FI": "Oy", "DE": "GmbH", "GB": "Ltd", "NL": "B.V."}
CITIES = {"NO": ["Oslo", "Bergen", "Trondheim", "Stavanger", "Tromsø"], "SE": ["Stockholm", "Göteborg", "Malmö", "Uppsala"],
          "DK": ["København", "Aarhus", "Odense", "Aalborg"], "FI": ["Helsinki", "Espoo", "Tampere"],
          "DE": ["Hamburg", "Berlin", "München"], "GB": ["London", "Manchester", "Edinburgh"],
          "NL": ["Amsterdam", "Rotterdam", "Utrecht"]}
COUNTRIES = ["NO", "NO", "NO", "SE", "SE", "DK", "DK", "FI", "DE", "GB", "NL"]
INDUSTRIES = ["Energy", "Logistics", "Healthcare", "Finance", "Retail", "Manufacturing", "Media", "Public sector",
              "Shipping", "Software"]
CATEGORIES = {CategoryGroup.PROSPECT: ["Prospect", "Hot prospect"], CategoryGroup.CUSTOMER: ["Customer", "Key customer"],
              CategoryGroup.OTHER: ["Supplier", "Press", "Competitor"]}
PARTNER_NAMES = ["Nordic Partners AS", "Baltic Reseller AB", "Kattegat Consulting A/S", "Helsinki Integrators Oy",
                 "North Sea Solutions Ltd", "Alpine Channel GmbH", "Polder Partners B.V.", "Arctic Services AS"]
TEAM_NAMES = ["Team Norway", "Team Sweden", "Team Denmark", "Team Finland", "Team Enterprise", "Team Partners"]
LOSS_REASONS = ["Price too high", "Chose a competitor", "No budget this year", "Project cancelled", "No decision"]
DISQUALIFY_REASONS = ["Not a fit", "Student", "Competitor", "No budget", "Duplicate"]
ROLES = ["Decision maker", "Champion", "Technical evaluator", "Economic buyer", "Influencer"]
RATES = {"EUR": "1", "USD": "0.92", "NOK": "0.087", "SEK": "0.088", "DKK": "0.134", "GBP": "1.17"}
PRICE_FACTOR = {"EUR": Decimal(1), "USD": Decimal("1.08"), "NOK": Decimal("11.5")}
PRODUCTS = [  # name, code, category, units: (name, recurring months or None, EUR price)
    ("Salesgraph Cloud", "SG-CLOUD", ProductCategory.SOFTWARE, [("licence/month, 12 months", 12, "45"),
                                                                ("licence/month, 36 months", 36, "39")]),
    ("Salesgraph On-Premise", "SG-ONPREM", ProductCategory.SOFTWARE, [("perpetual licence", None, "1200")]),
    ("Mobile add-on", "SG-MOBILE", ProductCategory.SOFTWARE, [("subscription, 12 months", 12, "120")]),
    ("Analytics add-on", "SG-ANALYTICS", ProductCategory.SOFTWARE, [("subscription, 12 months", 12, "240")]),
    ("Marketing automation", "SG-MARKETING", ProductCategory.SOFTWARE, [("subscription, 12 months", 12, "600"),
                                                                        ("subscription, 36 months", 36, "540")]),
    ("Partner portal", "SG-PORTAL", ProductCategory.SOFTWARE, [("subscription, 12 months", 12, "900")]),
    ("Integration kit", "SG-INTEGRATION", ProductCategory.SOFTWARE, [("piece", None, "2500")]),
    ("Implementation, standard", "IMPL-STD", ProductCategory.IMPLEMENTATION_SERVICE, [("project", None, "8000")]),
    ("Implementation, enterprise", "IMPL-ENT", ProductCategory.IMPLEMENTATION_SERVICE, [("project", None, "25000")]),
    ("Consulting day", "CONS-DAY", ProductCategory.IMPLEMENTATION_SERVICE, [("day", None, "1100")]),
    ("Data migration", "IMPL-MIGRATE", ProductCategory.IMPLEMENTATION_SERVICE, [("project", None, "5000")]),
    ("Custom reports", "IMPL-REPORTS", ProductCategory.IMPLEMENTATION_SERVICE, [("report", None, "750")]),
    ("Support Basic", "SUP-BASIC", ProductCategory.SUPPORT_SERVICE, [("support, 12 months", 12, "1500")]),
    ("Support Premium", "SUP-PREMIUM", ProductCategory.SUPPORT_SERVICE, [("support, 12 months", 12, "4800"),
                                                                         ("support, 36 months", 36, "4200")]),
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
PROBABILITY = {Stage.PROSPECTING: 10, Stage.QUALIFICATION: 25, Stage.PROPOSAL: 50, Stage.NEGOTIATION: 75,
               Stage.WON: 100, Stage.LOST: 0}


class _Company:
    """Builds the rows table by table; ids are assigned here, in creation order."""

    def __init__(self, n: int, anchor: datetime) -> None:
        self.n, self.anchor = n, anchor
        self.today = anchor.date()
        self.rng = random.Random(f"salesgraph-{n}")
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.next_id: dict[str, int] = {}

    # helpers -------------------------------------------------------------------------------
    def add(self, table: Table, entity: Any, **extra: Any) -> int:
        new_id = self.next_id.get(table.name, 1)
        self.next_id[table.name] = new_id + 1
        if hasattr(entity, "id"):
            entity.id = new_id
        row = to_row(entity) if not isinstance(entity, dict) else dict(entity)
        row.update(extra)
        if "id" in table.c:
            row["id"] = new_id
        self.rows.setdefault(table.name, []).append(row)
        return new_id

    def link(self, table: Table, **row: Any) -> None:
        self.rows.setdefault(table.name, []).append(row)

    def at(self, days_ago: float) -> datetime:
        return self.anchor - timedelta(seconds=int(days_ago * 86400))

    def stamps(self, when: datetime) -> dict[str, datetime]:
        return {"created_at": when, "updated_at": when}

    def person(self) -> tuple[str, str]:
        return self.rng.choice(FIRST), self.rng.choice(LAST)

    @staticmethod
    def slug(text_: str) -> str:
        table_ = str.maketrans({"ø": "o", "å": "a", "æ": "ae", "ö": "o", "ä": "a", "ü": "u", " ": "", "/": ""})
        return text_.lower().translate(table_)

    # the company ---------------------------------------------------------------------------
    def people(self) -> None:
        rng = self.rng
        reps = max(6, self.n // 400)
        teams = min(6, max(3, reps // 5))
        for i in range(teams):
            self.add(t.teams, Team(name=TEAM_NAMES[i], **self.stamps(self.at(700))))
        self.admin_id = self.add(t.users, User(name="Ada Admin", email=ADMIN_EMAIL, role=Role.ADMIN,
                                               **self.stamps(self.at(700))))
        self.directors: list[int] = []
        self.team_of: dict[int, int] = {}
        for team_id in range(1, teams + 1):
            first, last = self.person()
            uid = self.add(t.users, User(name=f"{first} {last}", email=f"director{team_id}@salesgraph.example",
                                         role=Role.SALES_DIRECTOR, team_id=team_id, **self.stamps(self.at(690))))
            self.directors.append(uid)
            self.team_of[uid] = team_id
        self.reps: list[int] = []
        for i in range(reps):
            first, last = self.person()
            team_id = i % teams + 1
            uid = self.add(t.users, User(name=f"{first} {last}", email=f"{self.slug(first)}.{i + 1}@salesgraph.example",
                                         role=Role.SALES_REP, team_id=team_id, **self.stamps(self.at(680 - i))))
            self.reps.append(uid)
            self.team_of[uid] = team_id
        month = self.today.replace(day=1)
        for uid in self.reps:
            for back in range(6, -1, -1):
                start = add_months(month, -back)
                end = add_months(start, 1) - timedelta(days=1)
                target = Money(Decimal(rng.randrange(20, 121) * 1000), "EUR")
                self.add(t.goals, Goal(user_id=uid, period_start=start, period_end=end, target_revenue=target,
                                       target_deals=rng.randint(2, 10), **self.stamps(self.at(200))))

    def catalog(self) -> None:
        for currency, rate in RATES.items():
            rate_ = ExchangeRate(currency=currency, rate=Decimal(rate))
            self.link(t.exchange_rates, currency=rate_.currency, rate=rate_.rate, updated_at=self.at(1))
        self.units: list[dict[str, Any]] = []
        for name, code, category, units in PRODUCTS:
            product_id = self.add(t.products, Product(name=name, code=code, category=category,
                                                      description=f"{name} ({category.value.replace('_', ' ').lower()})",
                                                      **self.stamps(self.at(720))))
            for unit_name, months, price in units:
                unit_id = self.add(t.product_units, ProductUnit(product_id=product_id, name=unit_name,
                                                                recurring=months is not None, period_months=months,
                                                                **self.stamps(self.at(720))))
                self.units.append({"id": unit_id, "product_id": product_id, "name": unit_name, "months": months,
                                   "price": Decimal(price), "product": name, "category": category})
        books = [
            PriceBook(name="Price list 2025", description="List prices for the Nordics and Europe",
                      brands=["Salesgraph"], product_versions=["2025.1"], regions=["NO", "SE", "DK", "FI", "EU"],
                      **self.stamps(self.at(560))),
        ]
        first_book = self.add(t.price_books, books[0])
        second_book = self.add(t.price_books, PriceBook(
            name="Price list 2026", description="Update of the 2025 list: cloud prices adjusted",
            brands=["Salesgraph"], product_versions=["2026.1"], regions=["NO", "SE", "DK", "FI", "EU"],
            is_update=True, previous_id=first_book, **self.stamps(self.at(330))))
        self.books = {first_book: {}, second_book: {}}
        for book_id, uplift in ((first_book, Decimal("1.00")), (second_book, Decimal("1.05"))):
            for unit in self.units:
                for currency, factor in PRICE_FACTOR.items():
                    price = Money(unit["price"] * factor * uplift, currency).rounded()
                    self.add(t.price_entries, PriceEntry(price_book_id=book_id, unit_id=unit["id"], price=price,
                                                         **self.stamps(self.at(330))))
                    self.books[book_id][(unit["id"], currency)] = price.amount
        parts = [BundleComponent(unit_id=self.units[0]["id"], weight=Decimal(50)),
                 BundleComponent(unit_id=self.units[8]["id"], weight=Decimal(30)),
                 BundleComponent(unit_id=self.units[15]["id"], weight=Decimal(20))]
        bundle = Bundle(price_book_id=second_book, name="Cloud starter bundle", code="BND-STARTER", components=parts,
                        **self.stamps(self.at(300)))
        bundle_id = self.add(t.bundles, bundle)
        for part in bundle.components:
            self.link(t.bundle_components, bundle_id=bundle_id, unit_id=part.unit_id, weight=part.weight)

    def partners_and_campaigns(self) -> None:
        rng = self.rng
        self.partners: list[int] = []
        for i in range(max(3, 3 + self.n // 2000)):
            name = PARTNER_NAMES[i % len(PARTNER_NAMES)] + ("" if i < len(PARTNER_NAMES) else f" {i // len(PARTNER_NAMES) + 1}")
            email = PARTNER_EMAIL if i == 0 else f"contact@{self.slug(name.split()[0])}{i}.example"
            self.partners.append(self.add(t.partners, Partner(name=name, email=email, phone=f"+47 2{i:03d} 4000",
                                                              country=rng.choice(COUNTRIES),
                                                              **self.stamps(self.at(650)))))
        for type_id, (name, kind) in enumerate([("Employee", ContactKind.EMPLOYEE), ("Consultant", ContactKind.CONSULTANT),
                                                ("Decision maker", ContactKind.EMPLOYEE),
                                                ("Technical contact", ContactKind.EMPLOYEE)], start=1):
            self.add(t.contact_types, ContactType(name=name, kind=kind, **self.stamps(self.at(700))))
        for partner_id in self.partners:
            for _ in range(rng.randint(2, 3)):
                first, last = self.person()
                self.add(t.contacts, Contact(first_name=first, last_name=last, contact_type_id=2, partner_id=partner_id,
                                             email=f"{self.slug(first)}.{self.slug(last)}@partner{partner_id}.example",
                                             **self.stamps(self.at(600))))
        self.campaigns: list[int] = []
        for i in range(6 + self.n // 5000):
            start = self.today - timedelta(days=30 * (i % 18) + 10)
            status = CampaignStatus.ARCHIVED if i % 4 == 3 else CampaignStatus.ACTIVE
            name = ["Spring webinar", "Trade fair Oslo", "LinkedIn ads", "Partner roadshow", "Newsletter",
                    "Customer day", "Google ads", "Nordic CRM summit"][i % 8] + f" {start.year}" + (f" #{i}" if i >= 8 else "")
            self.campaigns.append(self.add(t.campaigns, Campaign(
                name=name, status=status, costs=Money(Decimal(rng.randrange(5, 80) * 500), "EUR"),
                starts_on=start, ends_on=start + timedelta(days=rng.randint(7, 60)),
                **self.stamps(datetime.combine(start, time(9), timezone.utc)))))

    def accounts(self) -> None:
        rng = self.rng
        count = max(40, self.n // 5)
        self.account_info: dict[int, dict[str, Any]] = {}
        self.contacts_of: dict[int, list[int]] = {}
        organizations: list[int] = []
        for i in range(count):
            country = rng.choice(COUNTRIES)
            roll = rng.random()
            kind = AccountKind.PERSON if roll < 0.15 else AccountKind.LOGIN if roll < 0.19 else AccountKind.ORGANIZATION
            group = rng.choice([CategoryGroup.PROSPECT, CategoryGroup.PROSPECT, CategoryGroup.CUSTOMER,
                                CategoryGroup.CUSTOMER, CategoryGroup.CUSTOMER, CategoryGroup.OTHER])
            manager = rng.choice(self.reps)
            is_private = kind is AccountKind.PERSON and rng.random() < 0.15
            is_global = not is_private and rng.random() < 0.2
            created = self.at(rng.uniform(560, 720))
            parent_id = rng.choice(organizations) if organizations and kind is AccountKind.ORGANIZATION and rng.random() < 0.1 else None
            partner_id = (self.partners[0] if i % 25 == 3 else rng.choice(self.partners)) if i % 12 == 3 or i % 25 == 3 else None
            city = rng.choice(CITIES[country])
            common = dict(kind=kind, country=country, city=city, industry=rng.choice(INDUSTRIES), manager_id=manager,
                          category_group=group, category=rng.choice(CATEGORIES[group]), is_global=is_global,
                          is_private=is_private, created_by_id=manager, parent_id=parent_id, partner_id=partner_id,
                          phone=f"+{rng.randint(30, 49)} {rng.randint(10000000, 99999999)}",
                          street=f"{rng.choice(LAST)}gata {rng.randint(1, 120)}", postal_code=f"{rng.randint(1000, 9999)}",
                          **self.stamps(created))
            if kind is AccountKind.PERSON:
                first, last = self.person()
                account = Account(first_name=first, last_name=last,
                                  email=f"{self.slug(first)}.{self.slug(last)}{i}@mail.example", **common)
            else:
                name = f"{rng.choice(PREFIX)} {rng.choice(SUFFIX)}" + (f" {FORM[country]}" if kind is AccountKind.ORGANIZATION else " portal")
                account = Account(name=name, organization=name if kind is AccountKind.ORGANIZATION else None,
                                  email=f"post@{self.slug(name.split()[0])}{i}.example",
                                  registration_no=f"{rng.randint(900000000, 999999999)}" if kind is AccountKind.ORGANIZATION else None,
                                  vat_no=f"{country}{rng.randint(100000000, 999999999)}" if kind is AccountKind.ORGANIZATION else None,
                                  key_account=rng.random() < 0.1,
                                  custom_attributes={"segment": rng.choice(["SMB", "Mid-market", "Enterprise"]),
                                                     "source": rng.choice(["web", "partner", "event"])},
                                  **common)
            account_id = self.add(t.accounts, account)
            self.account_info[account_id] = {"manager": manager, "partner": partner_id, "group": group}
            if kind is AccountKind.ORGANIZATION:
                organizations.append(account_id)
                self.contacts_of[account_id] = []
                for c in range(rng.randint(2, 4)):
                    first, last = self.person()
                    contact_id = self.add(t.contacts, Contact(
                        first_name=first, last_name=last, contact_type_id=[1, 3, 4][c % 3], account_id=account_id,
                        email=f"{self.slug(first)}.{self.slug(last)}@{self.slug(account.name.split()[0])}{i}.example",
                        title=rng.choice(["CEO", "CFO", "CTO", "Head of Sales", "IT manager", "Buyer"]),
                        lead_status=rng.choice(list(LeadStatus)), **self.stamps(created)))
                    self.contacts_of[account_id].append(contact_id)
        ids = list(self.account_info)
        for _ in range(max(2, count // 20)):
            a, b = rng.sample(ids, 2)
            self.link(t.account_links, account_id=a, linked_account_id=b)
        self.rows[t.account_links.name] = _unique(self.rows[t.account_links.name], ("account_id", "linked_account_id"))
        for name in ("Nordic enterprise", "Public sector", "Reference customers", "Event invitees"):
            group_id = self.add(t.account_groups, AccountGroup(name=name, **self.stamps(self.at(500))))
            for account_id in sorted(rng.sample(ids, max(3, count // 5))):
                self.link(t.account_group_members, group_id=group_id, account_id=account_id)
        for user_id in [self.admin_id, *self.reps[:5]]:
            for account_id in sorted(rng.sample(ids, min(len(ids), 8))):
                self.link(t.account_favourites, user_id=user_id, account_id=account_id)
        self.account_ids = ids

    def leads(self) -> None:
        rng = self.rng
        statuses = list(LeadStatus)
        for i in range(max(20, self.n // 2)):
            first, last = self.person()
            status = statuses[i % len(statuses)] if i < len(statuses) else rng.choice(statuses)
            company = f"{rng.choice(PREFIX)} {rng.choice(SUFFIX)}"
            assignee = rng.random()
            created = self.at(rng.uniform(0, 540))
            account_id = rng.choice(self.account_ids) if status is LeadStatus.QUALIFIED else None
            lead = Lead(
                first_name=first, last_name=last, company=company, country=rng.choice(COUNTRIES),
                email=f"{self.slug(first)}.{self.slug(last)}{i}@{self.slug(company.split()[0])}.example",
                phone=f"+47 9{rng.randint(1000000, 9999999)}", company_size=rng.choice([5, 20, 50, 200, 1000, 5000]),
                campaign_id=rng.choice(self.campaigns) if rng.random() < 0.8 else None,
                utm_source=rng.choice(["google", "linkedin", "newsletter", "event"]),
                utm_medium=rng.choice(["cpc", "email", "social", "referral"]), utm_campaign=f"q{created.month // 4 + 1}",
                priority=rng.randint(0, 5),
                assigned_user_id=rng.choice(self.reps) if assignee < 0.6 else None,
                assigned_partner_id=(self.partners[0] if i % 3 == 0 else rng.choice(self.partners)) if 0.6 <= assignee < 0.75 else None,
                status=status,
                disqualification_reason=rng.choice(DISQUALIFY_REASONS) if status is LeadStatus.DISQUALIFIED else None,
                archived=status is not LeadStatus.QUALIFIED and rng.random() < 0.1,
                account_id=account_id, **self.stamps(created))
            self.add(t.leads, lead)

    # opportunities and what hangs off them, in chunks ---------------------------------------
    def opportunity_plan(self) -> list[int]:
        plan: list[int] = []
        while len(plan) < self.n:
            for account_id in self.account_ids:
                plan += [account_id] * self.rng.randint(1, 9)
                if len(plan) >= self.n:
                    break
        return plan[: self.n]

    def opportunity(self, account_id: int) -> None:
        rng = self.rng
        info = self.account_info[account_id]
        age = rng.uniform(1, 540)
        created = self.at(age)
        if age > 120:
            stage = rng.choices([Stage.WON, Stage.LOST, Stage.NEGOTIATION, Stage.PROPOSAL], [50, 35, 8, 7])[0]
        else:
            stage = rng.choices(list(Stage), [25, 20, 15, 12, 16, 12])[0]
        currency = rng.choices(["EUR", "USD", "NOK"], [80, 10, 10])[0]
        estimate = Money(Decimal(rng.randrange(20, 1500) * 100) * PRICE_FACTOR[currency], currency).rounded()
        closed_at = min(self.anchor, created + timedelta(days=rng.uniform(10, 120))) if stage.is_closed else None
        stage_changed = closed_at or min(self.anchor, created + timedelta(days=rng.uniform(0, age)))
        owner = info["manager"] if rng.random() < 0.7 else rng.choice(self.reps)
        opp_id = self.next_id.get(t.opportunities.name, 1)
        quotes = self.quotes(opp_id, stage, currency, created)
        actual = quotes if stage is Stage.WON else None
        name = f"{rng.choice(['New licences', 'Expansion', 'Renewal', 'Pilot', 'Upgrade', 'Support deal', 'Rollout'])} {created.year}"
        opportunity = Opportunity(
            name=name, account_id=account_id, owner_id=owner, stage=stage, estimated_revenue=estimate,
            probability=PROBABILITY[stage], expected_close_date=(created + timedelta(days=rng.randint(30, 150))).date(),
            partner_id=info["partner"] if info["partner"] and rng.random() < 0.8 else (
                rng.choice(self.partners) if rng.random() < 0.04 else None),
            campaign_id=rng.choice(self.campaigns) if rng.random() < 0.3 else None,
            locked=stage is Stage.WON, closed_at=closed_at, actual_revenue=actual,
            loss_reason=rng.choice(LOSS_REASONS) if stage is Stage.LOST else None, stage_changed_at=stage_changed,
            **self.stamps(created))
        self.add(t.opportunities, opportunity)
        contacts = self.contacts_of.get(account_id, [])
        if contacts and rng.random() < 0.3:
            for contact_id in sorted(rng.sample(contacts, min(len(contacts), rng.randint(1, 2)))):
                self.add(t.business_roles, BusinessRole(opportunity_id=opp_id, contact_id=contact_id,
                                                        role=rng.choice(ROLES), **self.stamps(created)))
        if rng.random() < 0.1:
            other = rng.choice(self.account_ids)
            if other != account_id:
                self.link(t.opportunity_related_accounts, opportunity_id=opp_id, account_id=other)
        for k in range(rng.randint(1, 4)):
            self.activity(created, owner, opportunity_id=opp_id, open_deal=not stage.is_closed and k == 0)

    def quotes(self, opp_id: int, stage: Stage, currency: str, created: datetime) -> Money | None:
        """Adds the opportunity's quotes; returns the active quote's total for a won deal."""
        rng = self.rng
        needs_active = stage in (Stage.PROPOSAL, Stage.NEGOTIATION, Stage.WON)
        count = rng.randint(0, 1) if stage is Stage.PROSPECTING else rng.randint(1, 3)
        active_total = None
        for q in range(count):
            active = needs_active and q == count - 1
            book = rng.choice(list(self.books)) if rng.random() < 0.8 else None
            when = created + timedelta(days=q * 3 + 1)
            quote = Quote(opportunity_id=opp_id, name=f"Quote {q + 1}", currency=currency, price_book_id=book,
                          brand="Salesgraph" if book else None, product_version="2026.1" if book == 2 else "2025.1" if book else None,
                          valid_from=when.date(), valid_until=when.date() + timedelta(days=30), is_active=active,
                          **self.stamps(when))
            quote_id = self.add(t.quotes, quote)
            items: list[QuoteItem] = []
            for position, unit in enumerate(rng.sample(self.units, rng.randint(2, 8))):
                quantity = Decimal(rng.randint(1, 50) if unit["months"] else rng.randint(1, 10))
                discount = Decimal(rng.choice([0, 0, 0, 5, 10, 15]))
                if book:
                    item = QuoteItem(quote_id=quote_id, name=unit["product"], quantity=quantity, currency=currency,
                                     unit_price=self.books[book][(unit["id"], currency)], discount_percent=discount,
                                     product_id=unit["product_id"], unit_id=unit["id"], unit_name=unit["name"],
                                     position=position, **self.stamps(when))
                else:
                    item = QuoteItem(quote_id=quote_id, name=f"{unit['product']} (manual)", quantity=quantity,
                                     currency=currency, unit_price=Money(unit["price"] * PRICE_FACTOR[currency] * Decimal("0.9"), currency).rounded().amount,
                                     discount_percent=discount, unit_name=unit["name"], position=position,
                                     **self.stamps(when))
                items.append(item)
                item_id = self.add(t.quote_items, item)
                item.id = item_id
                item.__dict__["_unit"] = unit if book else None
            if not active and rng.random() < 0.05:
                total = quote_total(items, currency).amount
                rounded = (total / 100).to_integral_value() * 100
                if rounded != total:
                    self.add(t.quote_items, QuoteItem(quote_id=quote_id, name="Rounding", quantity=Decimal(1),
                                                      unit_price=rounded - total, currency=currency,
                                                      position=len(items), is_rounding=True, **self.stamps(when)))
            if active and stage is Stage.WON:
                active_total = quote_total(items, currency)
                self.pending_contracts = (quote_id, items)
        return active_total

    def contracts(self, opp_id: int, account_id: int, closed_at: datetime) -> None:
        quote_id, items = self.pending_contracts
        start = closed_at.date()
        for item in items:
            unit = item.__dict__.get("_unit")
            months = unit["months"] if unit else None
            ends = add_months(start, months) if months else None
            status = ContractStatus.EXPIRED if ends and ends < self.today else ContractStatus.ACTIVE
            self.add(t.contracts, Contract(
                account_id=account_id, opportunity_id=opp_id, name=item.name,
                kind=ContractKind.TIME_BASED if months else ContractKind.ONE_TIME, quantity=item.quantity,
                value=Money(item.total, item.currency), starts_on=start, ends_on=ends, product_id=item.product_id,
                quote_item_id=item.id, category=unit["category"] if unit else None, status=status,
                **self.stamps(closed_at)))

    def activity(self, around: datetime, owner: int, open_deal: bool = False, **target: int) -> None:
        rng = self.rng
        kind = rng.choice(list(ActivityType))
        if open_deal and rng.random() < 0.7:
            due = self.anchor + timedelta(days=rng.uniform(1, 30))
            done, occurred = False, None
        else:
            due = min(self.anchor, around + timedelta(days=rng.uniform(0, 60)))
            done = rng.random() < 0.8
            occurred = due if done else None
        subject = {"CALL": "Call about next steps", "EMAIL": "Sent material", "MEETING": "Meeting with the team",
                   "TASK": "Prepare proposal", "FOLLOW_UP": "Follow up on quote", "REQUEST": "Question about licences"}[kind.value]
        self.add(t.sales_activities, SalesActivity(
            type=kind, subject=subject, owner_id=owner, notes=None if rng.random() < 0.5 else "Notes from the conversation.",
            due_at=due, occurred_at=occurred, done=done, duration_minutes=rng.choice([15, 30, 45, 60, 90]),
            **target, **self.stamps(around)))

    def other_activities(self) -> None:
        rng = self.rng
        for account_id in self.account_ids[:: 3]:
            self.activity(self.at(rng.uniform(0, 400)), self.account_info[account_id]["manager"], account_id=account_id)
        lead_count = self.next_id.get(t.leads.name, 1) - 1
        for lead_id in range(1, lead_count + 1, 4):
            self.activity(self.at(rng.uniform(0, 300)), rng.choice(self.reps), lead_id=lead_id)
        for partner_id in self.partners:
            self.activity(self.at(rng.uniform(0, 200)), rng.choice(self.reps), partner_id=partner_id)

    def take(self, *tables: Table) -> list[tuple[Table, list[dict[str, Any]]]]:
        return [(table, self.rows.pop(table.name, [])) for table in tables]


BASE_TABLES = [t.teams, t.users, t.goals, t.exchange_rates, t.products, t.product_units, t.price_books,
               t.price_entries, t.bundles, t.bundle_components, t.partners, t.contact_types, t.campaigns,
               t.accounts, t.contacts, t.account_links, t.account_groups, t.account_group_members,
               t.account_favourites, t.leads]
DEAL_TABLES = [t.opportunities, t.business_roles, t.opportunity_related_accounts, t.quotes, t.quote_items,
               t.contracts, t.sales_activities]


def _unique(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    seen, result = set(), []
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key not in seen:
            seen.add(key)
            result.append(row)
    return result


async def _insert(conn: AsyncConnection, batches: Iterable[tuple[Table, list[dict[str, Any]]]], counts: dict[str, int]) -> None:
    for table, rows in batches:
        for start in range(0, len(rows), 5_000):
            await conn.execute(table.insert(), rows[start:start + 5_000])
        counts[table.name] = counts.get(table.name, 0) + len(rows)


async def seed(engine: AsyncEngine, size: str | int = "small", *, anchor: datetime | None = None,
               progress: bool = False) -> SeedSummary:
    """Fill an empty, migrated database with the demo company for `size` opportunities."""
    n = parse_size(size)
    anchor = anchor or datetime.combine(datetime.now(timezone.utc).date(), time(), timezone.utc)
    company = _Company(n, anchor)
    summary = SeedSummary()
    bar = None
    if progress and n >= 5_000:
        from tqdm import tqdm

        bar = tqdm(total=n, unit="opp", desc="seeding")
    async with engine.begin() as conn:
        if (await conn.execute(select(func.count()).select_from(t.accounts))).scalar_one():
            raise SeedError("the database already has accounts: seed only fills an empty database")
        company.people()
        company.catalog()
        company.partners_and_campaigns()
        company.accounts()
        company.leads()
        company.other_activities()
        await _insert(conn, company.take(*BASE_TABLES), summary.counts)
        plan = company.opportunity_plan()
        for start in range(0, n, CHUNK):
            for account_id in plan[start:start + CHUNK]:
                company.pending_contracts = None
                company.opportunity(account_id)
                opportunity = company.rows[t.opportunities.name][-1]
                if opportunity["stage"] == Stage.WON.value:
                    company.contracts(opportunity["id"], account_id, opportunity["closed_at"])
            await _insert(conn, company.take(*DEAL_TABLES), summary.counts)
            if bar is not None:
                bar.update(min(CHUNK, n - start))
        await _insert(conn, company.take(t.sales_activities), summary.counts)
        # Planner statistics for the bulk-loaded tables: without them PostgreSQL chose plans that made
        # the nested benchmark read 6x slower in the database until autovacuum got round to it.
        await conn.execute(text("ANALYZE"))
        if conn.dialect.name == "postgresql":
            for table in t.metadata.sorted_tables:
                if "id" in table.c:
                    await conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), COALESCE(MAX(id), 1)) FROM {table.name}"))
    if bar is not None:
        bar.close()
    summary.admin_user_id = company.admin_id
    summary.partner_id = company.partners[0]
    return summary
