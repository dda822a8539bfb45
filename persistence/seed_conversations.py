"""Demo conversations: recorded calls and meetings of the demo company's sellers with their accounts' people,
in Danish, Norwegian, Swedish or English by the account's country, about the deals in the seed, mentioning
its products and the guide's keywords (3D printer, STL, production, discount, VIP, jeweller), competitors
(Contoso 360, Relecloud, Protosystem) and other brands (Da Vinci 3D, MakerHouse, Northwind 3D, …; each
turns up from some day on, so some are new in each period). Each is analysed with the domain's own
functions (domain/analysis.py) and stored with its analysis, as a recorded one would be.

Deterministic like the rest of the seed, with a random stream of its own so the other tables stay as they
were."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.analysis import Analysis, analyse
from domain.conversations import Conversation
from domain.enums import ConversationKind, Language, Side, TermKind
from domain.sentiment import builtin_scorer
from domain.terms import TrackedTerm
from domain.transcripts import Segment, Speaker, Transcript
from persistence import tables
from persistence.conversations import analysis_row
from persistence.rows import to_row

PER_OPPORTUNITY = 1.5
MOST = 20_000  # demo conversations at most (a large seed's hundreds of thousands of calls would take long)
LANGUAGE_OF = {"NO": Language.NO, "SE": Language.SV, "DK": Language.DA}
COMPETITORS = ["Contoso 360", "Relecloud", "Protosystem"]
# Other brands and organisations, with the day (before the anchor) from which customers bring them up.
BRANDS = [
    ("Da Vinci 3D", 540),
    ("MakerHouse", 420),
    ("Northwind 3D", 300),
    ("Fabrikam", 200),
    ("Litware", 120),
    ("Tailspin", 60),
    ("Woodgrove", 25),
    ("Proseware", 8),
]
PRODUCTS = ["Salesgraph Cloud", "Mobile add-on", "Analytics add-on", "Label printer", "Barcode scanner"]

# The tracked terms of the demo company: (kind, name, variants, language).
TERMS: list[tuple[TermKind, str, list[str], Language | None]] = [
    (TermKind.KEYWORD, "3D printer", ["3D printing"], None),
    (TermKind.KEYWORD, "STL", [], None),
    (TermKind.KEYWORD, "production", ["produktion", "produksjon"], None),
    (TermKind.KEYWORD, "discount", ["rabat", "rabatt"], None),
    (TermKind.KEYWORD, "VIP", [], None),
    (TermKind.KEYWORD, "jeweller", ["juvelerer", "gullsmed", "guldsmed"], None),
    (TermKind.KEYWORD, "price", ["pris", "priset", "prisen"], None),
    (TermKind.COMPETITOR, "Contoso 360", ["Contoso"], None),
    (TermKind.COMPETITOR, "Relecloud", [], None),
    (TermKind.COMPETITOR, "Protosystem", [], None),
]

# What is said, per language. {customer}, {seller}: first names; {company}: the account; {product}: one of
# ours; {competitor}, {brand}: a competitor, another brand.
LINES: dict[Language, dict[str, list[str]]] = {
    Language.DA: {
        "open": [
            "Hej {customer}, tak fordi du havde tid i dag.",
            "Godmorgen {customer}, det er {seller} fra Salesgraph. Passer det stadig?",
        ],
        "hello": ["Hej {seller}. Ja, det passer fint.", "Hej. Ja, vi har kigget lidt på jeres materiale."],
        "ask": [
            "Hvordan bruger I 3D-printere i produktionen i dag?",
            "Hvad er det vigtigste for {company} lige nu?",
            "Hvem skal ellers være med til at beslutte det?",
            "Hvor mange brugere taler vi om?",
        ],
        "need": [
            "Vi har omkring tredive brugere, og de fleste sidder i produktionen.",
            "Vi bruger {competitor} i dag, men kontrakten udløber til sommer.",
            "Vi skal kunne sende STL-filer direkte til printerne.",
            "Vores juvelerer vil gerne kunne se ordrerne på telefonen.",
            "Vi har fået et tilbud fra {brand}, som vi også kigger på.",
        ],
        "good": [
            "Det lyder rigtig godt, især integrationen.",
            "Vi er meget tilfredse med demoen, den var flot.",
            "Det er præcis det, vi har brug for. Fantastisk.",
            "Godt, det gør det meget nemmere for os.",
        ],
        "bad": [
            "Prisen er for høj for os, det er for dyrt.",
            "Vi har haft mange problemer med {competitor}, den er langsom.",
            "Det er ikke godt nok, vi er skuffede over leveringstiden.",
            "Jeg er bekymret for, at det bliver besværligt at komme i gang.",
        ],
        "pitch": [
            "Vores {product} kører direkte med jeres 3D-printer, også STL.",
            "Vi kan give jer en rabat på første ordre, hvis I bestiller i dette kvartal.",
            "Som VIP-kunde får I support direkte fra vores produktionsteam.",
            "Mange af vores kunder er skiftet fra {competitor} i år.",
        ],
        "close": [
            "Jeg sender et tilbud på {product} i morgen.",
            "Skal vi sætte et møde op med jeres økonomichef i næste uge?",
        ],
        "bye": ["Det lyder fint. Vi tales ved.", "Tak for i dag, vi vender tilbage."],
    },
    Language.NO: {
        "open": [
            "Hei {customer}, takk for at du hadde tid i dag.",
            "God morgen {customer}, det er {seller} fra Salesgraph. Passer det fortsatt?",
        ],
        "hello": ["Hei {seller}. Ja, det passer fint.", "Hei. Ja, vi har sett litt på materialet deres."],
        "ask": [
            "Hvordan bruker dere 3D-printere i produksjonen i dag?",
            "Hva er det viktigste for {company} akkurat nå?",
            "Hvem andre skal være med på beslutningen?",
            "Hvor mange brukere snakker vi om?",
        ],
        "need": [
            "Vi har rundt tretti brukere, og de fleste sitter i produksjonen.",
            "Vi bruker {competitor} i dag, men avtalen går ut til sommeren.",
            "Vi må kunne sende STL-filer rett til printerne.",
            "Gullsmeden vår vil gjerne se ordrene på telefonen.",
            "Vi har fått et tilbud fra {brand} som vi også ser på.",
        ],
        "good": [
            "Det høres veldig bra ut, særlig integrasjonen.",
            "Vi er veldig fornøyd med demoen, den var flott.",
            "Det er akkurat det vi trenger. Kjempebra.",
            "Supert, det gjør det mye enklere for oss.",
        ],
        "bad": [
            "Prisen er for høy for oss, det er for dyrt.",
            "Vi har hatt mange problemer med {competitor}, den er treg.",
            "Det er ikke bra nok, vi er skuffet over leveringstiden.",
            "Jeg er bekymret for at det blir vanskelig å komme i gang.",
        ],
        "pitch": [
            "Vår {product} virker rett med 3D-printeren deres, også STL.",
            "Vi kan gi dere rabatt på første ordre hvis dere bestiller dette kvartalet.",
            "Som VIP-kunde får dere support rett fra produksjonsteamet vårt.",
            "Mange av kundene våre har byttet fra {competitor} i år.",
        ],
        "close": [
            "Jeg sender et tilbud på {product} i morgen.",
            "Skal vi sette opp et møte med økonomisjefen deres neste uke?",
        ],
        "bye": ["Det høres fint ut. Vi snakkes.", "Takk for i dag, vi kommer tilbake til dere."],
    },
    Language.SV: {
        "open": [
            "Hej {customer}, tack för att du hade tid i dag.",
            "God morgon {customer}, det är {seller} från Salesgraph. Passar det fortfarande?",
        ],
        "hello": ["Hej {seller}. Ja, det passar bra.", "Hej. Ja, vi har tittat lite på ert material."],
        "ask": [
            "Hur använder ni 3D-skrivare i produktionen i dag?",
            "Vad är viktigast för {company} just nu?",
            "Vilka fler ska vara med i beslutet?",
            "Hur många användare pratar vi om?",
        ],
        "need": [
            "Vi har ungefär trettio användare, och de flesta sitter i produktionen.",
            "Vi använder {competitor} i dag, men avtalet går ut i sommar.",
            "Vi måste kunna skicka STL-filer direkt till skrivarna.",
            "Vår guldsmed vill gärna kunna se orderna i telefonen.",
            "Vi har fått en offert från {brand} som vi också tittar på.",
        ],
        "good": [
            "Det låter jättebra, särskilt integrationen.",
            "Vi är mycket nöjda med demon, den var snygg.",
            "Det är precis vad vi behöver. Toppen.",
            "Bra, det gör det mycket enklare för oss.",
        ],
        "bad": [
            "Priset är för högt för oss, det är för dyrt.",
            "Vi har haft mycket strul med {competitor}, den är långsam.",
            "Det är inte bra nog, vi är besvikna på leveranstiden.",
            "Jag är orolig för att det blir krångligt att komma igång.",
        ],
        "pitch": [
            "Vår {product} fungerar direkt med er 3D-skrivare, även STL.",
            "Vi kan ge er rabatt på första ordern om ni beställer det här kvartalet.",
            "Som VIP-kund får ni support direkt från vårt produktionsteam.",
            "Många av våra kunder har bytt från {competitor} i år.",
        ],
        "close": [
            "Jag skickar en offert på {product} i morgon.",
            "Ska vi boka ett möte med er ekonomichef nästa vecka?",
        ],
        "bye": ["Det låter bra. Vi hörs.", "Tack för i dag, vi återkommer."],
    },
    Language.EN: {
        "open": [
            "Hi {customer}, thanks for making time today.",
            "Good morning {customer}, this is {seller} from Salesgraph. Is this still a good time?",
        ],
        "hello": ["Hi {seller}. Yes, this works.", "Hello. Yes, we have looked at your material."],
        "ask": [
            "How do you use 3D printers in production today?",
            "What matters most to {company} right now?",
            "Who else will be part of the decision?",
            "How many users are we talking about?",
        ],
        "need": [
            "We have about thirty users, and most of them work in production.",
            "We use {competitor} today, but the contract ends this summer.",
            "We need to send STL files straight to the printers.",
            "Our jeweller wants to see the orders on the phone.",
            "We got an offer from {brand} that we are looking at as well.",
        ],
        "good": [
            "That sounds really good, especially the integration.",
            "We are very happy with the demo, it was great.",
            "That is exactly what we need. Excellent.",
            "Great, that makes it much easier for us.",
        ],
        "bad": [
            "The price is too high for us, it is too expensive.",
            "We have had a lot of problems with {competitor}, it is slow.",
            "It is not good enough, we are disappointed with the delivery time.",
            "I am worried that it will be hard to get started.",
        ],
        "pitch": [
            "Our {product} works directly with your 3D printer, STL included.",
            "We can give you a discount on the first order if you order this quarter.",
            "As a VIP customer you get support straight from our production team.",
            "Many of our customers switched from {competitor} this year.",
        ],
        "close": [
            "I will send you a quote for {product} tomorrow.",
            "Shall we set up a meeting with your finance manager next week?",
        ],
        "bye": ["Sounds good. Talk soon.", "Thanks for today, we will get back to you."],
    },
}


@dataclass(frozen=True)
class Deal:
    """What a conversation about an opportunity needs to know of it."""

    opportunity_id: int
    account_id: int
    owner_id: int
    since: datetime
    until: datetime


def term_rows(anchor: datetime) -> tuple[list[TrackedTerm], list[dict[str, Any]]]:
    terms, rows = [], []
    for n, (kind, name, variants, language) in enumerate(TERMS, start=1):
        term = TrackedTerm(
            id=n, kind=kind, name=name, variants=variants, language=language, created_at=anchor, updated_at=anchor
        )
        terms.append(term)
        rows.append(to_row(term))
    return terms, rows


class ConversationSeeder:
    """Builds the demo conversations for the company the seed made (its deals, accounts, people)."""

    def __init__(
        self,
        n: int,
        anchor: datetime,
        deals: list[Deal],
        account_info: dict[int, dict[str, Any]],
        contacts_of: dict[int, list[int]],
        contact_names: dict[int, tuple[str, str, str | None]],
        user_names: dict[int, str],
        reps: list[int],
        count: int | None = None,
        distinct: int | None = None,
    ) -> None:
        """`distinct`: make only this many transcripts and analyses, and every later conversation a copy of
        one of them at another time of the history (benchmarks' large seeds: analysing each of 100,000
        transcripts took most of half an hour)."""
        self.n, self.anchor, self.deals = n, anchor, deals
        self.distinct = distinct
        self.account_info, self.contacts_of, self.contact_names = account_info, contacts_of, contact_names
        self.user_names, self.reps = user_names, reps
        self.count = count if count is not None else min(MOST, round(n * PER_OPPORTUNITY))
        self.rng = random.Random(f"salesgraph-conversations-{n}")
        # How much each seller talks: some listen more (the guide's best sellers talk 59 %, the team 61 %).
        self.talkative = {uid: self.rng.uniform(0.8, 1.4) for uid in sorted(user_names)}

    def build(self) -> dict[str, list[dict[str, Any]]]:
        terms, term_table = term_rows(self.anchor)
        made = min(self.count, self.distinct or self.count)
        plans = [self._plan(i) for i in range(made)]
        history = [min(d.since for d in self.deals), self.anchor] if self.deals else [self.anchor, self.anchor]
        for i in range(made, self.count):  # copies of the distinct ones, at other times
            at = history[0] + timedelta(seconds=self.rng.uniform(0, (history[1] - history[0]).total_seconds()))
            plans.append({**plans[i % made], "index": i, "started_at": at.replace(microsecond=0)})
        planned = sorted(plans, key=lambda p: (p["started_at"], p["index"]))
        scorer = builtin_scorer()
        rows: dict[str, list[dict[str, Any]]] = {
            "tracked_terms": term_table,
            "conversations": [],
            "conversation_participants": [],
            "conversation_segments": [],
            "conversation_analyses": [],
            "conversation_mentions": [],
            "conversation_names": [],
        }
        first_of: dict[str, int] = {}
        new_names: dict[int, int] = {}
        analysed: dict[int, Analysis] = {}  # by the id of the transcript (copies share theirs)
        for conversation_id, plan in enumerate(planned, start=1):
            transcript, duration = plan["transcript"], plan["duration"]
            analysis = analysed.get(id(transcript))
            if analysis is None:
                analysis = analysed[id(transcript)] = analyse(transcript, duration, terms, 1, scorer)
            conversation = Conversation(
                id=conversation_id,
                kind=plan["kind"],
                started_at=plan["started_at"],
                duration_seconds=duration,
                language=transcript.language,
                owner_id=plan["owner"],
                title=plan["title"],
                account_id=plan["account"],
                contact_id=plan["contact"],
                opportunity_id=plan["opportunity"],
                external_id=f"demo-{plan['index'] + 1}",
                created_at=plan["started_at"] + timedelta(seconds=duration + 60),
                updated_at=plan["started_at"] + timedelta(seconds=duration + 60),
            )
            rows["conversations"].append(to_row(conversation))
            self._transcript_rows(rows, conversation_id, transcript, analysis)
            self._analysis_rows(rows, conversation, analysis, first_of, new_names)
        for row in rows["conversation_analyses"]:
            row["new_names"] = new_names.get(row["conversation_id"], 0)
        return rows

    # one conversation ------------------------------------------------------------------------

    def _plan(self, index: int) -> dict[str, Any]:
        rng = self.rng
        deal = self.deals[rng.randrange(len(self.deals))]
        info = self.account_info[deal.account_id]
        language = LANGUAGE_OF.get(info["country"], Language.EN)
        span = max(0.0, (deal.until - deal.since).total_seconds())
        started = deal.since + timedelta(seconds=rng.uniform(0, span))
        started = started.replace(hour=rng.randint(8, 16), minute=rng.choice([0, 15, 30, 45]), second=0, microsecond=0)
        if started > self.anchor:
            started = self.anchor - timedelta(hours=rng.randint(1, 48))
        seller = deal.owner_id
        speakers = [Speaker(self.user_names[seller], Side.SELLER, user_id=seller)]
        if rng.random() < 0.2:
            colleague = rng.choice([r for r in self.reps if r != seller] or [seller])
            if colleague != seller:
                speakers.append(Speaker(self.user_names[colleague], Side.SELLER, user_id=colleague))
        contacts = self.contacts_of.get(deal.account_id) or []
        contact_id = None
        if contacts:
            chosen = sorted(rng.sample(contacts, min(len(contacts), 1 if rng.random() < 0.75 else 2)))
            contact_id = chosen[0]
            for cid in chosen:
                first, last, _ = self.contact_names[cid]
                if all(s.name != f"{first} {last}" for s in speakers):
                    speakers.append(Speaker(f"{first} {last}", Side.CUSTOMER, contact_id=cid))
        if not any(s.side is Side.CUSTOMER for s in speakers):
            name = info["name"] if info["first"] is None else f"{info['first']} {info['last']}"
            speakers.append(Speaker(name[:200], Side.CUSTOMER))
        kind = rng.choices(list(ConversationKind), [45, 45, 10])[0]
        segments, end = self._dialogue(language, speakers, info["name"], started)
        duration = end // 1000 + rng.randint(5, 90)
        return {
            "index": index,
            "started_at": started,
            "kind": kind,
            "owner": seller,
            "account": deal.account_id,
            "contact": contact_id,
            "opportunity": deal.opportunity_id,
            "title": self._title(language, kind),
            "transcript": Transcript(tuple(speakers), tuple(segments), language),
            "duration": duration,
        }

    @staticmethod
    def _title(language: Language, kind: ConversationKind) -> str:
        words = {
            Language.DA: ("Opkald", "Onlinemøde", "Møde"),
            Language.NO: ("Telefonsamtale", "Nettmøte", "Møte"),
            Language.SV: ("Samtal", "Onlinemöte", "Möte"),
            Language.EN: ("Call", "Online meeting", "Meeting"),
        }[language]
        return words[list(ConversationKind).index(kind)]

    def _dialogue(
        self, language: Language, speakers: list[Speaker], company: str, started: datetime
    ) -> tuple[list[Segment], int]:
        rng = self.rng
        lines = LINES[language]
        sellers = [n for n, s in enumerate(speakers) if s.side is Side.SELLER]
        customers = [n for n, s in enumerate(speakers) if s.side is Side.CUSTOMER]
        lead_seller = sellers[0]
        first = {n: s.name.split()[0] for n, s in enumerate(speakers)}
        factor = self.talkative.get(speakers[lead_seller].user_id or 0, 1.0)
        days_ago = (self.anchor - started).days
        brands = [b for b, since in BRANDS if since >= days_ago] or [BRANDS[0][0]]
        mood = rng.choices(["good", "bad", "mixed"], [45, 25, 30])[0]
        slots = {
            "company": company,
            "seller": first[lead_seller],
            "customer": first[customers[0]],
            "product": rng.choice(PRODUCTS),
            "competitor": rng.choice(COMPETITORS),
            "brand": rng.choice(brands),
        }
        script: list[tuple[int, str]] = [(lead_seller, "open"), (customers[0], "hello")]
        for _ in range(rng.randint(7, 19)):
            seller = rng.choice(sellers) if rng.random() < 0.2 else lead_seller
            customer = rng.choice(customers)
            feeling = mood if mood != "mixed" else rng.choice(["good", "bad"])
            script.append((seller, rng.choice(["ask", "pitch", "ask"])))
            script.append((customer, rng.choice(["need", "need", feeling])))
            if rng.random() < 0.3:
                script.append((customer, feeling))
        script += [(lead_seller, "close"), (customers[0], "bye")]
        segments: list[Segment] = []
        at = rng.randint(0, 3000)
        for position, (speaker, part) in enumerate(script):
            text = rng.choice(lines[part]).format(**slots)
            side = speakers[speaker].side
            seconds = rng.uniform(15, 70) * (1.35 * factor if side is Side.SELLER else 1.0)
            end = at + int(seconds * 1000)
            segments.append(Segment(position, speaker, side, at, end, text))
            at = end + rng.randint(200, 2500)
        return segments, segments[-1].end_ms

    # rows ------------------------------------------------------------------------------------

    @staticmethod
    def _transcript_rows(
        rows: dict[str, list[dict[str, Any]]], conversation_id: int, transcript: Transcript, analysis: Analysis
    ) -> None:
        for n, speaker in enumerate(transcript.speakers):
            rows["conversation_participants"].append(
                {
                    "conversation_id": conversation_id,
                    "position": n,
                    "name": speaker.name,
                    "side": speaker.side.value,
                    "user_id": speaker.user_id,
                    "contact_id": speaker.contact_id,
                }
            )
        for segment, scored in zip(transcript.segments, analysis.sentiments):
            rows["conversation_segments"].append(
                {
                    "conversation_id": conversation_id,
                    "position": segment.position,
                    "speaker": segment.speaker,
                    "side": segment.side.value,
                    "start_ms": segment.start_ms,
                    "end_ms": segment.end_ms,
                    "text": segment.text,
                    "upstream_label": None,
                    "upstream_score": None,
                    "sentiment_label": scored.sentiment.label.value,
                    "sentiment_score": scored.sentiment.score,
                    "sentiment_source": scored.source.value,
                }
            )

    @staticmethod
    def _analysis_rows(
        rows: dict[str, list[dict[str, Any]]],
        conversation: Conversation,
        analysis: Analysis,
        first_of: dict[str, int],
        new_names: dict[int, int],
    ) -> None:
        conversation_id = conversation.id or 0
        rows["conversation_analyses"].append(analysis_row(conversation_id, analysis, conversation.created_at))
        rows["conversation_mentions"] += [
            {
                "conversation_id": conversation_id,
                "term_id": m.term_id,
                "segment": m.segment,
                "side": m.side.value,
                "count": m.count,
            }
            for m in analysis.mentions
        ]
        for name in analysis.names:
            is_first = name.key not in first_of  # conversations come in start order
            if is_first:
                first_of[name.key] = conversation_id
                if name.customer_mentions:
                    new_names[conversation_id] = new_names.get(conversation_id, 0) + 1
            rows["conversation_names"].append(
                {
                    "conversation_id": conversation_id,
                    "key": name.key,
                    "name": name.name,
                    "started_at": conversation.started_at,
                    "customer_mentions": name.customer_mentions,
                    "seller_mentions": name.seller_mentions,
                    "first_segment": name.first_segment,
                    "is_first": is_first,
                }
            )


def seed_tables() -> list[Any]:
    """The tables the demo conversations fill, in insert order."""
    return [
        tables.tracked_terms,
        tables.conversations,
        tables.conversation_participants,
        tables.conversation_segments,
        tables.conversation_analyses,
        tables.conversation_mentions,
        tables.conversation_names,
    ]
