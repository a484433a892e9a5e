"""The audit trail: one JSON log record and one row per audited request, off the request path."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging

from resolvers.community import AuditRecord, insert_audit_events
from resolvers.principal import Principal
from resolvers.sources import DATABASE_UNAVAILABLE, Pool
from schema.permissions import FieldAccess

log = logging.getLogger("harborgraph.audit")
BATCH = 200
QUEUE_LIMIT = 10_000


def audit_record(access: FieldAccess, operation_name: str | None) -> AuditRecord | None:
    """What to keep of a request, or None when it read nothing audited and was denied nothing."""
    if not access.read and not access.denied:
        return None
    principal: Principal = access.principal
    return AuditRecord(
        occurred_at=datetime.datetime.now(datetime.UTC),
        organization_code=principal.organization_code,
        subject=principal.subject,
        operation_name=operation_name,
        fields=sorted(access.read),
        rows_counted=sum(access.read.values()),
        denials=json.dumps(dict(sorted(access.denied.items()))),
    )


def log_line(record: AuditRecord) -> str:
    return json.dumps(
        {
            "event": "audit",
            "at": record.occurred_at.isoformat(),
            "organization": record.organization_code,
            "subject": record.subject,
            "operation": record.operation_name,
            "fields": record.fields,
            "rows": record.rows_counted,
            "denials": json.loads(record.denials),
        },
        separators=(",", ":"),
    )


class AuditSink:
    """Queues records and writes them in batches from one background task."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._queue: asyncio.Queue[AuditRecord] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._task: asyncio.Task[None] | None = None

    @property
    def depth(self) -> int:
        """Records waiting to be written."""
        return self._queue.qsize()

    def submit(self, record: AuditRecord) -> None:
        log.info(log_line(record))
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            log.error("audit queue full: record kept in the log only")

    async def _drain_once(self) -> None:
        batch = [await self._queue.get()]
        while len(batch) < BATCH and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        try:
            await self._write(batch)
        finally:
            for _ in batch:
                self._queue.task_done()

    async def _write(self, batch: list[AuditRecord]) -> None:
        """The batch; should it fail, each record alone, so that one bad record loses no
        other's row. A failed write must not stop auditing: the log line remains."""
        try:
            await insert_audit_events(self._pool, batch)
            return
        except DATABASE_UNAVAILABLE:  # one at a time would fail as well
            log.exception("audit rows could not be written: %s record(s)", len(batch))
            return
        except Exception:
            if len(batch) == 1:
                log.exception("an audit row could not be written")
                return
        for record in batch:
            await self._write([record])

    async def _run(self) -> None:
        while True:
            await self._drain_once()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def flush(self) -> None:
        await self._queue.join()

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), timeout=5)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
