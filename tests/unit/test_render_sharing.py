"""What of the caller a subscription document's render reads (gql/subscriptions/sharing.py): the part of the
caller a shared render's key must hold. No database: the schema and documents alone."""

from __future__ import annotations

from graphql import parse

from domain.access import Principal
from gql.schema.schema import schema
from gql.subscriptions.sharing import CALLER, NOTHING, VIEWER_USER, caller_part, render_reads

BOARD = """subscription($period: PeriodInput!) { scoreboardUpdated(period: $period) {
  periodStart asOf eventId team { id name } openPipeline { amount currency } openDeals
  reps { rank user { id name email } openPipeline { amount currency } }
  ranking(first: 5) { totalCount nodes { rank } pageInfo { hasNextPage } }
  __typename } }"""


def reads(document: str) -> str:
    return render_reads(schema._schema, parse(document))


def test_a_board_of_plain_figures_reads_nothing_of_the_caller():
    assert reads(BOARD) == NOTHING


def test_the_viewers_own_row_reads_its_user_id_also_through_a_fragment():
    assert reads(BOARD.replace("__typename", "viewerRep { rank }")) == VIEWER_USER
    fragment = BOARD.replace("__typename", "...Mine") + " fragment Mine on Scoreboard { viewerRep { rank } }"
    assert reads(fragment) == VIEWER_USER


def test_a_field_that_loads_through_the_callers_rules_reads_the_caller():
    assert reads("subscription { opportunityEvents { eventId opportunity { name } } }") == CALLER
    assert reads("subscription { opportunityEvents { eventId kind opportunityId } }") == NOTHING


def test_the_key_holds_what_is_read():
    principal = Principal(token_id=7, user_id=3)
    assert caller_part(NOTHING, principal, 3) is None
    assert caller_part(VIEWER_USER, principal, 3) == ("user", 3)
    assert caller_part(CALLER, principal, 3) is principal
