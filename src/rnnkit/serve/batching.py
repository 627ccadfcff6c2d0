"""Dynamic batching: instances from many requests share one network pass.

A :class:`Batcher` owns a queue. Its loop takes the first waiting instance, then keeps
taking until it holds ``max_batch`` instances or ``max_wait_ms`` have passed since the
first, sorts them by length and cuts them into groups whose padding stays small
(:func:`length_groups`), and runs each group through ``run_batch`` on the single inference
thread. While a pass runs, new arrivals queue up, so under load batches fill without
waiting; with ``max_batch=1`` every instance runs alone (batching off).

``run_batch(payloads) -> results`` returns one result per payload, in order; a result
that is an ``Exception`` fails that instance's request only.

A failure is charged to the instance that caused it, never to its batch neighbours
(:func:`run_isolated`): when a whole pass raises, the batch is split in halves and each
half is run again, down to single instances, so only the instance(s) that fail alone get
the error. Instances are checked one by one before they are queued, so this is the rare
second line of defence, and bisection keeps its cost at ``O(k log n)`` passes for ``k``
bad instances among ``n``.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Callable

from rnnkit.errors import RnnkitError


class QueueFull(RnnkitError):
    """More instances wait than ``max_queue`` allows (the server answers 503)."""


@dataclass
class _Job:
    payload: Any
    length: int
    future: asyncio.Future


def length_groups(lengths: list[int], max_waste: float = 0.5) -> list[list[int]]:
    """Indices grouped so that, in each group sorted by length, padding is at most
    ``max_waste`` of the padded cells: ``sum(max_len - len_i) <= max_waste * n * max_len``."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0
    for i in order:
        longest = lengths[i]  # sorted ascending: the newcomer is the longest
        if current and (longest * (len(current) + 1) - (total + lengths[i])) > \
                max_waste * longest * (len(current) + 1):
            groups.append(current)
            current, total = [], 0
        current.append(i)
        total += lengths[i]
    if current:
        groups.append(current)
    return groups


def run_isolated(run_batch: Callable[[list], list], payloads: list) -> list:
    """``run_batch(payloads)``; if the whole pass raises, each half again (recursively), so
    an exception reaches only the payloads that raise it on their own."""
    try:
        results = run_batch(payloads)
        if len(results) != len(payloads):
            raise RuntimeError(f"run_batch: expected {len(payloads)} results, got {len(results)}")
        return results
    except Exception as err:  # noqa: BLE001 - charged below to the payload(s) that cause it
        if len(payloads) == 1:
            return [err]
    half = len(payloads) // 2
    return run_isolated(run_batch, payloads[:half]) + run_isolated(run_batch, payloads[half:])


class Batcher:
    """One queue and its batching loop (start with :meth:`start`, stop with :meth:`close`)."""

    def __init__(self, run_batch: Callable[[list], list], executor: Executor, *, max_batch: int,
                 max_wait_ms: float, max_queue: int, on_batch: Callable[[int], None] | None = None,
                 on_depth: Callable[[int], None] | None = None) -> None:
        self.run_batch, self.executor = run_batch, executor
        self.max_batch, self.max_wait = max_batch, max_wait_ms / 1000.0
        self.max_queue = max_queue
        self.on_batch = on_batch or (lambda n: None)
        self.on_depth = on_depth or (lambda n: None)
        self._queue: asyncio.Queue[_Job | None] | None = None
        self._task: asyncio.Task | None = None
        self._stopping = False  # the loop took close()'s marker
        self._closed = False

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    @property
    def depth(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    def submit(self, payloads: list, lengths: list[int]) -> list[asyncio.Future]:
        """Queue instances; returns one future per instance."""
        if self._queue is None or self._closed:
            raise QueueFull("server is shutting down: no new work is taken; retry on another instance")
        if self.depth + len(payloads) > self.max_queue:
            raise QueueFull(f"server busy: {self.depth} instances already wait for this model "
                            f"(max_queue={self.max_queue}); retry shortly or add workers")
        loop = asyncio.get_running_loop()
        futures = []
        for payload, length in zip(payloads, lengths):
            job = _Job(payload, length, loop.create_future())
            self._queue.put_nowait(job)
            futures.append(job.future)
        self.on_depth(self.depth)
        return futures

    async def _take(self) -> list[_Job]:
        queue = self._queue
        first = await queue.get()
        if first is None:  # close() was called and everything before it is done
            self._stopping = True
            return []
        jobs = [first]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        while len(jobs) < self.max_batch and not self._stopping:
            if not queue.empty():
                job = queue.get_nowait()
                if job is None:
                    self._stopping = True
                    break
                jobs.append(job)
                continue
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                job = await asyncio.wait_for(queue.get(), left)
            except asyncio.TimeoutError:
                break
            if job is None:
                self._stopping = True
                break
            jobs.append(job)
        return jobs

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            jobs = await self._take()
            self.on_depth(self.depth)
            live = [j for j in jobs if not j.future.done()]  # drop instances whose request gave up
            for group in length_groups([j.length for j in live]):
                batch = [live[i] for i in group]
                self.on_batch(len(batch))
                try:
                    results = await loop.run_in_executor(self.executor, run_isolated, self.run_batch,
                                                         [j.payload for j in batch])
                except Exception as err:  # the executor itself failed (shut down): each hears why
                    results = [err] * len(batch)
                for job, result in zip(batch, results):
                    if job.future.done():
                        continue
                    if isinstance(result, BaseException):
                        job.future.set_exception(result)
                    else:
                        job.future.set_result(result)

    async def close(self) -> None:
        """Finish every queued instance, then stop the loop (graceful shutdown)."""
        if self._task is None:
            return
        self._closed = True
        self._queue.put_nowait(None)  # FIFO: everything queued before it is answered first
        await self._task
        self._task = None
