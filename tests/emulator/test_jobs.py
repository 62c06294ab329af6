"""Reports and feeds processed over time, by the emulator's clock."""

from __future__ import annotations

from spproxy.emulator.jobs import Jobs
from tests.emulator.conftest import FakeClock


def test_a_job_queues_works_then_ends() -> None:
    clock = FakeClock()
    jobs = Jobs(clock, (2.0, 3.0))
    done = jobs.add("1", {}, fatal=False, document_id="d1")
    failed = jobs.add("2", {}, fatal=True, document_id="d2")
    assert jobs.status(done) == "IN_QUEUE"
    assert set(jobs.times(done)) == {"createdTime"}
    clock.advance(2)
    assert jobs.status(done) == "IN_PROGRESS"
    assert set(jobs.times(done)) == {"createdTime", "processingStartTime"}
    clock.advance(2.9)
    assert jobs.status(done) == "IN_PROGRESS"
    clock.advance(0.1)
    assert (jobs.status(done), jobs.status(failed)) == ("DONE", "FATAL")
    assert set(jobs.times(done)) == {"createdTime", "processingStartTime", "processingEndTime"}


def test_only_a_queued_job_can_be_cancelled() -> None:
    clock = FakeClock()
    jobs = Jobs(clock, (2.0, 3.0))
    queued = jobs.add("1", {}, fatal=False, document_id="d1")
    assert jobs.cancel(queued)
    clock.advance(10)
    assert jobs.status(queued) == "CANCELLED"
    working = jobs.add("2", {}, fatal=False, document_id="d2")
    clock.advance(2)
    assert not jobs.cancel(working)
    assert jobs.status(working) == "IN_PROGRESS"
