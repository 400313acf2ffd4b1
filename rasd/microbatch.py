"""Micro-batching for ``rasd serve``: one thread owns the model; concurrent requests share its calls.

Requests are queued; the worker takes the first one waiting, keeps collecting for a short window
(``max_wait_s``) or until ``max_batch_docs`` documents are gathered, runs *one* extractor call on
all their documents and routes each request's documents back to its future. While the model is
busy, new requests pile up and form the next batch at once, so under load batches fill without
waiting. The queue is bounded in documents: a request that would overflow it is refused
(:class:`QueueFull`), which the server turns into a 503, rather than letting latency grow without
limit. Torch is only ever called from the worker thread.

Nothing here imports FastAPI: the batcher works under any server, or none.

Example:
    >>> batcher = Batcher(lambda texts, ids, dates: [t.upper() for t in texts], max_batch_docs=8)
    >>> batcher.submit(["a", "b"], [None, None], [None, None]).result(timeout=5)
    ['A', 'B']
    >>> batcher.stop()
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

from rasd.errors import InputError

T = TypeVar("T")
#: ``extract(texts, ids, dates) -> one result per text, in order``: the shape of an Extractor call.
ExtractFn = Callable[[list[str], list[Any], list[Any]], Sequence[T]]


class QueueFull(Exception):
    """The queue holds too many documents already: the caller should retry later (HTTP 503)."""


class Stopped(Exception):
    """The batcher is shutting down or stopped: it takes no new work (HTTP 503)."""


@dataclass
class _Job(Generic[T]):
    """One request's documents and the future its handler waits on."""

    texts: list[str]
    ids: list[Any]
    dates: list[date | None]
    future: Future[list[T]] = field(default_factory=Future)


@dataclass
class BatcherStats:
    """Counters since start: what the worker did (a snapshot, see :meth:`Batcher.stats`)."""

    model_calls: int = 0
    documents: int = 0
    requests: int = 0
    failed_requests: int = 0
    cancelled_requests: int = 0
    refused_requests: int = 0
    queued_documents: int = 0
    largest_batch: int = 0


class Batcher(Generic[T]):
    """A worker thread running ``extract`` on batches gathered from concurrent :meth:`submit` calls.

    Args:
        extract: called as ``extract(texts, ids, dates)``; returns one result per text.
        max_batch_docs: documents per call at most (a request is never split; one larger than
            this runs on its own).
        max_wait_s: how long the worker waits for more requests after the first one arrives.
        max_queue_docs: documents waiting at most; more is refused with :class:`QueueFull`.
    """

    def __init__(self, extract: ExtractFn[T], max_batch_docs: int = 32, max_wait_s: float = 0.01,
                 max_queue_docs: int = 256) -> None:
        if max_batch_docs < 1 or max_queue_docs < 1 or max_wait_s < 0:
            raise InputError(f"Batcher: max_batch_docs and max_queue_docs must be ≥ 1 and max_wait_s ≥ 0, got "
                             f"{max_batch_docs}, {max_queue_docs}, {max_wait_s}")
        self._extract = extract
        self.max_batch_docs = max_batch_docs
        self.max_wait_s = max_wait_s
        self.max_queue_docs = max_queue_docs
        self._queue: queue.SimpleQueue[_Job[T] | None] = queue.SimpleQueue()
        self._carry: _Job[T] | None = None  # taken from the queue but too big for the batch being built
        self._lock = threading.Lock()
        self._stats = BatcherStats()
        self._thread: threading.Thread | None = None
        self._closed = False

    def start(self) -> None:
        """Start the worker (idempotent; :meth:`submit` starts it too)."""
        with self._lock:
            self._start_locked()

    def _start_locked(self) -> None:
        if self._closed:
            raise Stopped("the server is shutting down")
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="rasd-model-worker", daemon=True)
            self._thread.start()

    @property
    def alive(self) -> bool:
        """Whether the worker thread is running (False before start and after stop)."""
        return self._thread is not None and self._thread.is_alive()

    def stats(self) -> BatcherStats:
        with self._lock:
            return BatcherStats(**self._stats.__dict__)

    def submit(self, texts: list[str], ids: list[Any], dates: list[date | None]) -> Future[list[T]]:
        """Queue one request's documents; the future gets their results, in order.

        Raises :class:`QueueFull` when the queue has no room for them, :class:`Stopped` after :meth:`stop`.
        """
        if not (len(texts) == len(ids) == len(dates)):
            raise InputError(f"{len(texts)} texts, {len(ids)} ids and {len(dates)} dates: one of each per document")
        job: _Job[T] = _Job(texts, ids, dates)
        with self._lock:
            self._start_locked()
            if self._stats.queued_documents + len(texts) > self.max_queue_docs:
                self._stats.refused_requests += 1
                raise QueueFull(f"the server is busy: {self._stats.queued_documents} document(s) are queued and "
                                f"the queue holds {self.max_queue_docs}; retry shortly")
            self._stats.queued_documents += len(texts)
            self._queue.put(job)  # under the lock: never behind the stop sentinel
        return job.future

    def stop(self, timeout: float | None = 30.0) -> None:
        """Refuse new work, finish what is queued, and end the worker."""
        with self._lock:
            self._closed = True
            thread = self._thread
            if thread is not None:
                self._queue.put(None)  # after everything queued: that is finished first
        if thread is not None:
            thread.join(timeout)

    # ------------------------------------------------------------ worker side

    def _collect(self) -> tuple[list[_Job[T]], bool]:
        """The next batch, and whether the stop sentinel was seen (then the loop ends after it)."""
        first = self._carry if self._carry is not None else self._queue.get()
        self._carry = None
        if first is None:
            return [], True
        jobs, n = [first], len(first.texts)
        deadline = time.monotonic() + self.max_wait_s
        while n < self.max_batch_docs:
            left = deadline - time.monotonic()
            try:
                job = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            if n + len(job.texts) > self.max_batch_docs:
                self._carry = job  # first in the next batch: a request is never split across calls
                break
            jobs.append(job)
            n += len(job.texts)
        return jobs, False

    def _loop(self) -> None:
        stop = False
        while not stop:
            jobs, stop = self._collect()
            # A request whose client gave up (future cancelled) costs no model time.
            live = [j for j in jobs if j.future.set_running_or_notify_cancel()]
            try:
                if live:
                    self._run(live)
            finally:
                with self._lock:
                    self._stats.queued_documents -= sum(len(j.texts) for j in jobs)
                    self._stats.cancelled_requests += len(jobs) - len(live)

    def _run(self, jobs: list[_Job[T]]) -> None:
        texts = [t for j in jobs for t in j.texts]
        try:
            results = self._extract(texts, [i for j in jobs for i in j.ids], [d for j in jobs for d in j.dates])
            if len(results) != len(texts):
                raise RuntimeError(f"the extractor returned {len(results)} results for {len(texts)} texts")
        except Exception as exc:  # noqa: BLE001  (routed to the request(s) at fault, never lost)
            with self._lock:
                self._stats.model_calls += 1
            if len(jobs) > 1:
                # One bad request must not fail the others it happened to be batched with: run each alone.
                for job in jobs:
                    self._run([job])
                return
            with self._lock:
                self._stats.failed_requests += 1
            jobs[0].future.set_exception(exc)
            return
        with self._lock:
            self._stats.model_calls += 1
            self._stats.documents += len(texts)
            self._stats.requests += len(jobs)
            self._stats.largest_batch = max(self._stats.largest_batch, len(texts))
        start = 0
        for job in jobs:
            job.future.set_result(list(results[start:start + len(job.texts)]))
            start += len(job.texts)
