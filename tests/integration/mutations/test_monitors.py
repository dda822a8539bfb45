"""Status monitor mutations and the statusMonitors list over HTTP: typed rules, typed errors, the
stored rows and the outbox events."""

from __future__ import annotations

from sqlalchemy import func, select

from gql import ids
from persistence import tables

ERRORS = "... on UserError { code message } ... on ValidationError { field } ... on NotFoundError { entityType }"
MONITOR = (
    "statusMonitor { id name description icon colour priority entityType active version "
    "rule { kind days weeks months count activityTypes activityState stage } }"
)

CREATE = f"""mutation($input: CreateStatusMonitorInput!) {{
  createStatusMonitor(input: $input) {{ __typename ... on StatusMonitorPayload {{ {MONITOR} }} {ERRORS} }}
}}"""
UPDATE = f"""mutation($input: UpdateStatusMonitorInput!) {{
  updateStatusMonitor(input: $input) {{ __typename ... on StatusMonitorPayload {{ {MONITOR} }} {ERRORS} }}
}}"""
DELETE = f"""mutation($input: DeleteStatusMonitorInput!) {{
  deleteStatusMonitor(input: $input) {{ __typename ... on DeletedPayload {{ deletedId }} {ERRORS} }}
}}"""
LIST = """query($filter: StatusMonitorFilter, $orderBy: StatusMonitorOrder) {
  statusMonitors(filter: $filter, orderBy: $orderBy, first: 50) { totalCount nodes { name priority entityType active rule { kind count } } }
}"""

NOT_FOLLOWED_UP = {"kind": "NO_ACTIVITY", "days": 183, "activityTypes": ["CALL", "MEETING"], "activityState": "DONE"}


async def scalar(engine, stmt):
    async with engine.connect() as conn:
        return (await conn.execute(stmt)).scalar_one()


async def count(engine, table, *where) -> int:
    return await scalar(engine, select(func.count()).select_from(table).where(*where))


async def stored(engine, pk: int):
    async with engine.connect() as conn:
        return (
            await conn.execute(select(tables.status_monitors).where(tables.status_monitors.c.id == pk))
        ).one_or_none()


async def outbox_mark(engine) -> int:
    return await scalar(engine, select(func.coalesce(func.max(tables.outbox_events.c.id), 0)))


async def events(engine, pk: int, after: int) -> list[tuple[str, dict]]:
    box = tables.outbox_events
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(box.c.type, box.c.data)
            .where(box.c.entity_type == "StatusMonitor", box.c.entity_id == pk, box.c.id > after)
            .order_by(box.c.id)
        )
        return [(r.type, r.data) for r in rows]


def pk_of(global_id: str) -> int:
    return ids.decode(global_id)[1]


async def run(api, document: str, input: dict, token: str | None = None) -> dict:
    data = await api.data(document, {"input": input}, token)
    return next(iter(data.values()))


async def new_monitor(api, **values) -> dict:
    made = await run(
        api, CREATE, {"name": "Not followed up in 6 months", "entityType": "ACCOUNT", "rule": NOT_FOLLOWED_UP, **values}
    )
    assert made["__typename"] == "StatusMonitorPayload", made
    return made["statusMonitor"]


async def test_create_status_monitor_stores_the_typed_rule_and_announces_it(api, writable):
    mark = await outbox_mark(writable.engine)
    made = await new_monitor(api, description="Call them", priority=5, colour="#f0ad4e")
    assert made["rule"] == {
        "kind": "NO_ACTIVITY",
        "days": 183,
        "weeks": None,
        "months": None,
        "count": None,
        "activityTypes": ["CALL", "MEETING"],
        "activityState": "DONE",
        "stage": None,
    }
    assert (made["icon"], made["colour"], made["priority"], made["active"], made["version"]) == (
        "flag",
        "#f0ad4e",
        5,
        True,
        1,
    )
    row = await stored(writable.engine, pk_of(made["id"]))
    assert (
        row.entity_type == "ACCOUNT"
        and row.rule["kind"] == "NO_ACTIVITY"
        and row.rule["activity_types"] == ["CALL", "MEETING"]
    )
    [(kind, data)] = await events(writable.engine, pk_of(made["id"]), mark)
    assert kind == "StatusMonitorChanged" and data["change"] == "CREATED" and data["entityType"] == "ACCOUNT"
    node = await api.data(
        "query($id: ID!) { node(id: $id) { ... on StatusMonitor { name rule { kind } } } }", {"id": made["id"]}
    )
    assert node["node"] == {"name": "Not followed up in 6 months", "rule": {"kind": "NO_ACTIVITY"}}


async def test_an_invalid_rule_names_its_parameter_and_changes_nothing(api, writable):
    before = (await count(writable.engine, tables.status_monitors), await count(writable.engine, tables.outbox_events))
    cases = [
        ({"kind": "NO_ACTIVITY"}, "ACCOUNT", "rule.days"),
        ({"kind": "NO_ACTIVITY", "days": 0}, "ACCOUNT", "rule.days"),
        ({"kind": "NO_WON_OPPORTUNITY", "months": 3, "weeks": 2}, "ACCOUNT", "rule.weeks"),
        ({"kind": "TOO_MANY_ACTIVITIES", "weeks": 2}, "CONTACT", "rule.count"),
        ({"kind": "OPEN_PAST_CLOSE_DATE", "activityTypes": ["CALL"]}, "OPPORTUNITY", "rule.activityTypes"),
        ({"kind": "STUCK_IN_STAGE", "days": 30, "stage": "WON"}, "OPPORTUNITY", "rule.stage"),
        ({"kind": "OPEN_PAST_CLOSE_DATE"}, "ACCOUNT", "rule.kind"),
        ({"kind": "NO_WON_OPPORTUNITY", "months": 3}, "OPPORTUNITY", "rule.kind"),
    ]
    for rule, entity_type, field in cases:
        refused = await run(api, CREATE, {"name": f"Bad {field}", "entityType": entity_type, "rule": rule})
        assert refused["__typename"] == "ValidationError" and refused["field"] == field, (rule, refused)
        assert refused["code"] == "VALIDATION"
    bad_colour = await run(
        api, CREATE, {"name": "Red", "entityType": "ACCOUNT", "rule": NOT_FOLLOWED_UP, "colour": "red"}
    )
    assert bad_colour["field"] == "colour"
    blank = await run(api, CREATE, {"name": " ", "entityType": "ACCOUNT", "rule": NOT_FOLLOWED_UP})
    assert blank["field"] == "name"
    assert (
        await count(writable.engine, tables.status_monitors),
        await count(writable.engine, tables.outbox_events),
    ) == before


async def test_a_second_monitor_with_the_same_name_is_a_conflict(api, writable):
    await new_monitor(
        api,
        name="Too many requests",
        entityType="CONTACT",
        rule={"kind": "TOO_MANY_ACTIVITIES", "count": 5, "weeks": 2, "activityTypes": ["REQUEST"]},
    )
    again = await run(
        api,
        CREATE,
        {"name": "too many REQUESTS", "entityType": "ACCOUNT", "rule": {"kind": "NO_WON_OPPORTUNITY", "months": 3}},
    )
    assert again["__typename"] == "ConflictError"
    assert (
        await count(
            writable.engine, tables.status_monitors, func.lower(tables.status_monitors.c.name) == "too many requests"
        )
        == 1
    )


async def test_partners_may_not_define_monitors(api, writable):
    refused = await run(
        api, CREATE, {"name": "Partner flag", "entityType": "ACCOUNT", "rule": NOT_FOLLOWED_UP}, writable.partner_token
    )
    assert refused["__typename"] == "PermissionDeniedError"
    assert await count(writable.engine, tables.status_monitors, tables.status_monitors.c.name == "Partner flag") == 0


async def test_update_status_monitor_replaces_the_rule_switches_it_off_and_announces_what_changed(api, writable):
    made = await new_monitor(api, name="Stuck", entityType="OPPORTUNITY", rule={"kind": "STUCK_IN_STAGE", "days": 30})
    mark = await outbox_mark(writable.engine)
    updated = await run(
        api,
        UPDATE,
        {
            "id": made["id"],
            "version": 1,
            "active": False,
            "description": "Push it",
            "rule": {"kind": "STUCK_IN_STAGE", "days": 45, "stage": "PROPOSAL"},
        },
    )
    assert updated["__typename"] == "StatusMonitorPayload", updated
    monitor = updated["statusMonitor"]
    assert (monitor["active"], monitor["version"], monitor["description"]) == (False, 2, "Push it")
    assert (monitor["rule"]["days"], monitor["rule"]["stage"]) == (45, "PROPOSAL")
    row = await stored(writable.engine, pk_of(made["id"]))
    assert row.active is False and row.rule["days"] == 45 and row.version == 2
    [(kind, data)] = await events(writable.engine, pk_of(made["id"]), mark)
    assert kind == "StatusMonitorChanged" and data["change"] == "UPDATED"
    assert data["fields"] == ["active", "description", "rule"] and data["active"] is False
    on = await run(api, UPDATE, {"id": made["id"], "version": 2, "active": True})
    assert on["statusMonitor"]["active"] is True and on["statusMonitor"]["version"] == 3


async def test_update_errors_change_nothing(api, writable):
    made = await new_monitor(api, name="No purchase", rule={"kind": "NO_WON_OPPORTUNITY", "months": 3})
    stale = await run(api, UPDATE, {"id": made["id"], "version": 7, "priority": 9})
    assert stale["__typename"] == "ConflictError"
    wrong_type = await run(api, UPDATE, {"id": made["id"], "entityType": "OPPORTUNITY"})
    assert wrong_type["__typename"] == "ValidationError" and wrong_type["field"] == "rule.kind"
    bad_rule = await run(api, UPDATE, {"id": made["id"], "rule": {"kind": "NO_WON_OPPORTUNITY"}})
    assert bad_rule["field"] == "rule.months"
    cleared = await run(api, UPDATE, {"id": made["id"], "active": None})
    assert cleared["field"] == "active"
    missing = await run(api, UPDATE, {"id": ids.encode("StatusMonitor", 999_999), "priority": 1})
    assert missing["__typename"] == "NotFoundError" and missing["entityType"] == "StatusMonitor"
    not_a_monitor = await run(api, UPDATE, {"id": ids.encode("Account", 1), "priority": 1})
    assert not_a_monitor["__typename"] == "ValidationError" and not_a_monitor["field"] == "id"
    row = await stored(writable.engine, pk_of(made["id"]))
    assert (row.version, row.priority, row.entity_type, row.active) == (1, 0, "ACCOUNT", True)


async def test_delete_status_monitor_takes_its_indicators_with_it(api, writable):
    made = await new_monitor(api, name="Late", entityType="OPPORTUNITY", rule={"kind": "OPEN_PAST_CLOSE_DATE"})
    pk = pk_of(made["id"])
    # The seed has opportunities past their close date: the new monitor marked them at once.
    assert await count(writable.engine, tables.status_indicators, tables.status_indicators.c.monitor_id == pk) > 0
    stale = await run(api, DELETE, {"id": made["id"], "version": 2})
    assert stale["__typename"] == "ConflictError"
    mark = await outbox_mark(writable.engine)
    deleted = await run(api, DELETE, {"id": made["id"], "version": 1})
    assert deleted == {"__typename": "DeletedPayload", "deletedId": made["id"]}
    assert await stored(writable.engine, pk) is None
    assert await count(writable.engine, tables.status_indicators, tables.status_indicators.c.monitor_id == pk) == 0
    [(kind, data)] = await events(writable.engine, pk, mark)
    assert kind == "StatusMonitorChanged" and data["change"] == "DELETED" and data["name"] == "Late"
    again = await run(api, DELETE, {"id": made["id"]})
    assert again["__typename"] == "NotFoundError"


async def test_status_monitors_can_be_filtered_by_entity_type_activity_and_name_and_ordered(api, writable):
    for name, entity_type, rule, priority, active in (
        ("List: late", "OPPORTUNITY", {"kind": "OPEN_PAST_CLOSE_DATE"}, 3, True),
        ("List: nothing planned", "OPPORTUNITY", {"kind": "NO_FUTURE_ACTIVITY"}, 7, False),
        ("List: meetings, no sale", "ACCOUNT", {"kind": "MANY_MEETINGS_NO_SALE", "count": 3, "days": 60}, 5, True),
    ):
        await new_monitor(api, name=name, entityType=entity_type, rule=rule, priority=priority, active=active)

    async def names(filter: dict, order: dict | None = None) -> list[str]:
        found = (await api.data(LIST, {"filter": filter, "orderBy": order}))["statusMonitors"]
        assert found["totalCount"] == len(found["nodes"])
        return [n["name"] for n in found["nodes"]]

    assert await names({"search": "list:"}) == ["List: late", "List: meetings, no sale", "List: nothing planned"]
    assert await names({"search": "LIST", "entityType": "OPPORTUNITY"}) == ["List: late", "List: nothing planned"]
    assert await names({"search": "list", "active": False}) == ["List: nothing planned"]
    assert await names({"search": "list"}, {"field": "PRIORITY", "direction": "DESC"}) == [
        "List: nothing planned",
        "List: meetings, no sale",
        "List: late",
    ]
    assert await names({"search": "no such monitor"}) == []
    listed = (await api.data(LIST, {"filter": {"search": "meetings"}}))["statusMonitors"]["nodes"]
    assert [n["rule"] for n in listed] == [{"kind": "MANY_MEETINGS_NO_SALE", "count": 3}]
