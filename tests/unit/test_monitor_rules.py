"""Status monitor rules are typed: each kind takes exactly its parameters and marks only what it can."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.audit import AuditEntry
from domain.enums import ActivityType, Stage
from domain.errors import ValidationError
from domain.monitors import MonitoredEntity, Rule, RuleKind, StatusMonitor
from domain.stages import DEFAULT_CATALOG

NOW = datetime(2026, 6, 15, tzinfo=UTC)


def test_not_followed_up_in_six_months_is_a_no_activity_rule_on_accounts():
    rule = Rule(kind=RuleKind.NO_ACTIVITY, days=183, activity_types=(ActivityType.CALL, ActivityType.MEETING))
    monitor = StatusMonitor(name="Not followed up in 6 months", entity_type=MonitoredEntity.ACCOUNT, rule=rule)
    assert monitor.rule.applies_to(MonitoredEntity.CONTACT)
    assert Rule.from_dict(rule.to_dict()) == rule


def test_each_rule_kind_needs_its_parameters_and_refuses_others():
    with pytest.raises(ValidationError, match="positive days"):
        Rule(kind=RuleKind.NO_ACTIVITY)
    with pytest.raises(ValidationError, match="positive count"):
        Rule(kind=RuleKind.TOO_MANY_ACTIVITIES, weeks=6)
    with pytest.raises(ValidationError, match="takes no days"):
        Rule(kind=RuleKind.NO_WON_OPPORTUNITY, months=3, days=10)
    with pytest.raises(ValidationError, match="no activity filter"):
        Rule(kind=RuleKind.OPEN_PAST_CLOSE_DATE, activity_types=(ActivityType.CALL,))
    with pytest.raises(ValidationError, match="open one"):  # the stage's kind, from the catalogue
        Rule(kind=RuleKind.STUCK_IN_STAGE, days=30, stage=Stage.WON).check_stage(DEFAULT_CATALOG)
    with pytest.raises(ValidationError, match="not an opportunity stage"):
        Rule(kind=RuleKind.STUCK_IN_STAGE, days=30, stage="NO_SUCH").check_stage(DEFAULT_CATALOG)
    assert Rule(kind=RuleKind.STUCK_IN_STAGE, days=30, stage=Stage.PROPOSAL).stage == Stage.PROPOSAL


def test_a_monitor_only_marks_entities_its_rule_can_judge():
    with pytest.raises(ValidationError, match="cannot mark an entity of type ACCOUNT"):
        StatusMonitor(name="Late", entity_type=MonitoredEntity.ACCOUNT, rule=Rule(kind=RuleKind.OPEN_PAST_CLOSE_DATE))
    with pytest.raises(ValidationError, match="colour"):
        StatusMonitor(
            name="Late",
            entity_type=MonitoredEntity.OPPORTUNITY,
            rule=Rule(kind=RuleKind.OPEN_PAST_CLOSE_DATE),
            colour="red",
        )


def test_leads_are_marked_only_by_the_overdue_task_rule():
    assert StatusMonitor(name="Late task", entity_type=MonitoredEntity.LEAD, rule=Rule(kind=RuleKind.TASK_OVERDUE))
    with pytest.raises(ValidationError, match="cannot mark an entity of type LEAD"):
        StatusMonitor(name="Quiet", entity_type=MonitoredEntity.LEAD, rule=Rule(kind=RuleKind.NO_ACTIVITY, days=30))
    with pytest.raises(ValidationError, match="takes no days"):
        Rule(kind=RuleKind.TASK_OVERDUE, days=2)


def test_history_is_kept_for_accounts_opportunities_quotes_and_tasks_only():
    AuditEntry(
        entity_type="Quote", entity_id=1, field="currency", old_value="EUR", new_value="NOK", at=NOW, actor_user_id=1
    )
    AuditEntry(entity_type="Task", entity_id=1, field="dueAt", old_value=None, new_value=NOW.isoformat(), at=NOW)
    with pytest.raises(ValidationError):
        AuditEntry(entity_type="Lead", entity_id=1, field="status", old_value="OPEN", new_value="REWORK", at=NOW)
