"""What every write shares: its outcome, its refusals, its audit row and its transaction.

A write is one transaction on one connection of the source it writes. `in_transaction` runs
the write's own `act` there; a refused write rolls back (nothing changed) and is audited all
the same. The audit row goes into the transaction when the community source shares the
database (`SourcePools.alongside`), else to the app's audit sink right after.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import asyncpg

from resolvers.community import AuditRecord, insert_audit_events
from resolvers.principal import Principal
from resolvers.sources import Connection, SourcePools


class Outcome(StrEnum):
    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    REJECTED = "REJECTED"
    NOT_STORED = "NOT_STORED"  # a batch's valid item, when another item was rejected


class Refusal(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"


class Invalid(ValueError):
    """A write refused at the edge: the field (a path within the input) and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Written:
    """What a single write did: the rows it wrote (or found, for a duplicate), or why not."""

    outcome: Outcome
    rows: list[asyncpg.Record] = field(default_factory=list)
    code: Refusal | None = None
    field: str | None = None
    reason: str | None = None

    @property
    def row(self) -> asyncpg.Record | None:
        return self.rows[0] if self.rows else None

    @classmethod
    def of(cls, outcome: Outcome, row: asyncpg.Record | None) -> Written:
        return cls(outcome, [] if row is None else [row])


def refused(code: Refusal, field_name: str, reason: str) -> Written:
    return Written(Outcome.REJECTED, [], code, field_name, reason)


def invalid(error: Invalid) -> Written:
    return refused(Refusal.INVALID, error.field, error.reason)


def audit_record(
    principal: Principal,
    operation: str,
    mutation: str,
    details: Mapping[str, Any],
    done: Written,
) -> AuditRecord:
    """One write's audit row: what it was, what became of it, and a denial when refused as
    not found (the caller reached for something outside its write rule)."""
    coordinate = f"Mutation.{mutation}"
    writes = {
        "mutation": mutation,
        "outcome": done.outcome.value,
        **details,
        "code": None if done.code is None else done.code.value,
    }
    denied = done.code is Refusal.NOT_FOUND
    return AuditRecord(
        occurred_at=datetime.datetime.now(datetime.UTC),
        organization_code=principal.organization_code,
        subject=principal.subject,
        operation_name=operation,
        fields=[coordinate],
        rows_counted=len(done.rows) if done.outcome is Outcome.ACCEPTED else 0,
        denials=json.dumps({coordinate: 1} if denied else {}),
        writes=json.dumps(writes, separators=(",", ":"), default=str),
    )


class Rollback(Exception):
    """Leaves the transaction with nothing written: the write was refused."""

    def __init__(self, done: Written) -> None:
        super().__init__(done.reason)
        self.done = done


Act = Callable[[Connection], Awaitable[Written]]


async def in_transaction(
    pools: SourcePools,
    source: str,
    principal: Principal,
    act: Act,
    *,
    mutation: str,
    details: Mapping[str, Any],
    operation: str,
    audit: Callable[[AuditRecord], None],
) -> Written:
    """`act` in one transaction of `source`, with the write's audit row."""
    in_place = pools.alongside(source, "community")
    async with pools[source].acquire() as connection:
        try:
            async with connection.transaction():
                done = await act(connection)
                if done.outcome is Outcome.REJECTED:
                    raise Rollback(done)
                record = audit_record(principal, operation, mutation, details, done)
                if in_place:
                    await insert_audit_events(connection, [record])
        except Rollback as rolled_back:
            done = rolled_back.done
            record = audit_record(principal, operation, mutation, details, done)
            if in_place:
                await insert_audit_events(connection, [record])
    if not in_place:
        audit(record)
    return done
