"""Reports and feeds as Amazon processes them: over time, by the emulator's clock.

A job waits `queue_s` seconds IN_QUEUE, works `work_s` seconds IN_PROGRESS, then ends DONE or
FATAL (its document, a report or a processing report, is made when the job is created and named
only once it ends). Only a job still IN_QUEUE can be cancelled ("Only reports with
processingStatus=IN_QUEUE can be cancelled": cancelReport in Amazon's reports_2021-06-30 model;
cancelFeed says the same of feeds): it is CANCELLED from then on, with no document.
`EmulatorConfig.processing_s` sets (queue_s, work_s); tests drive a fake clock through them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Status = Literal["IN_QUEUE", "IN_PROGRESS", "DONE", "FATAL", "CANCELLED"]


@dataclass
class Job:
    job_id: str
    started: float  # the clock's reading when it was created
    created_time: datetime  # wall-clock time, as Amazon's createdTime
    fatal: bool
    document_id: str  # named once the job ends
    spec: dict[str, Any]  # what the create call asked for
    cancelled: bool = False


class Jobs:
    """The jobs of one kind (reports or feeds), by id, and their status at the clock's now."""

    def __init__(self, clock: Callable[[], float], processing_s: tuple[float, float]) -> None:
        self._clock = clock
        self.queue_s, self.work_s = processing_s
        self.jobs: dict[str, Job] = {}

    def add(self, job_id: str, spec: dict[str, Any], *, fatal: bool, document_id: str) -> Job:
        now = datetime.now(UTC).replace(microsecond=0)
        job = Job(job_id, self._clock(), now, fatal, document_id, spec)
        self.jobs[job_id] = job
        return job

    def status(self, job: Job) -> Status:
        if job.cancelled:
            return "CANCELLED"
        elapsed = self._clock() - job.started
        if elapsed < self.queue_s:
            return "IN_QUEUE"
        if elapsed < self.queue_s + self.work_s:
            return "IN_PROGRESS"
        return "FATAL" if job.fatal else "DONE"

    def cancel(self, job: Job) -> bool:
        """Cancels a job IN_QUEUE; False if it is past that."""
        if self.status(job) != "IN_QUEUE":
            return False
        job.cancelled = True
        return True

    def answer(self, job: Job, id_field: str, document_field: str) -> dict[str, Any]:
        """The job in the model's Report or Feed shape (`reportId`/`reportDocumentId` or
        `feedId`/`resultFeedDocumentId`), as of the clock's now: its document once it ends."""
        status = self.status(job)
        answer = {id_field: job.job_id, **job.spec, "processingStatus": status, **self.times(job)}
        if status in ("DONE", "FATAL"):
            answer[document_field] = job.document_id
        return answer

    def times(self, job: Job) -> dict[str, str]:
        """createdTime, and processingStartTime and processingEndTime once they are reached."""
        status = self.status(job)
        times = {"createdTime": _iso(job.created_time)}
        if status in ("IN_PROGRESS", "DONE", "FATAL"):
            times["processingStartTime"] = _iso(job.created_time + timedelta(seconds=self.queue_s))
        if status in ("DONE", "FATAL"):
            end = job.created_time + timedelta(seconds=self.queue_s + self.work_s)
            times["processingEndTime"] = _iso(end)
        return times


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
