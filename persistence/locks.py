"""The advisory locks every process of a deployment shares (PostgreSQL; SQLite has one writer at a time).

- `EVENT_NUMBERING_LOCK`: held from the statement that numbers a transaction's events (or writes its history)
  to its commit, so events are numbered in commit order (persistence/uow.py).
- `INDICATORS_LOCK`: writers of status indicators take turns (persistence/indicators.py, the scheduler).

A transaction that takes both takes the numbering lock first, so two transactions never wait for each other."""

from __future__ import annotations

# Any constants shared by every process of a deployment (not the outbox dispatcher's).
EVENT_NUMBERING_LOCK = 0x5A1E5_0B0
INDICATORS_LOCK = 0x5A1E5_1D1
