"""De-identification of a submission's free texts off the event loop: one hop per submission, in
a thread or in processes of their own, texts that repeat remembered."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial

from services.common.deid import Scrubber, load_scrubber

log = logging.getLogger(__name__)


def scrub_in_process(texts: list[str], language: str, key: bytes, version: int) -> list[str]:
    """``texts`` scrubbed by this process's own scrubber (what a scrubbing process runs)."""
    scrubber = load_scrubber()
    return [scrubber.scrub(t, key=key, language=language, version=version) for t in texts]


def _load(parent: int) -> None:
    # A scrubbing process loads the language model once, before its first text: a model that
    # cannot load breaks the pool, and the service's start says so.
    load_scrubber()
    threading.Thread(target=_follow, args=(parent,), name="follow-parent", daemon=True).start()


def _follow(parent: int) -> None:
    # A service killed without its shutdown (SIGKILL, OOM) leaves its pool's processes waiting
    # for work that never comes, each holding a language model: they leave with it.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


class TextScrubber:
    """Replaces the identifiers of a submission's free texts, the event loop left free.

    With ``processes`` at 0, in a worker thread of this process: the language model then takes
    the interpreter lock from the event loop for as long as it reads, and every request waits.
    With ``processes`` above 0, in that many processes of their own (each with its own copy of
    the model): scrubbing runs on the other cores while this process answers HTTP and Kafka.
    Either way a submission's texts go in one hop, not one per field.

    Texts that repeat from report to report (an establishment, an AI's templated output) are
    remembered once scrubbed, up to ``remembered`` of them, keyed by a hash of the text and its
    language: the scrubber's answer for a text never changes while its key is the same, and the
    texts kept are the scrubbed ones only.
    """

    def __init__(
        self,
        scrubber: Scrubber,
        *,
        key: bytes,
        version: int,
        processes: int = 0,
        remembered: int = 4096,
    ) -> None:
        self._scrubber = scrubber
        self._key = key
        self._version = version
        self._processes = processes
        self._pool = self._new_pool() if processes else None
        self._known: OrderedDict[bytes, str] = OrderedDict()
        self._max_known = remembered

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load,
            initargs=(os.getpid(),),
        )

    async def start(self) -> None:
        """Start the scrubbing processes and wait until each has its language model (raises
        what stopped one loading)."""
        if self._pool is not None:
            loop = asyncio.get_running_loop()
            # One task per process at once: a busy pool spawns the next process for the next.
            await asyncio.gather(
                *(
                    loop.run_in_executor(self._pool, scrub_in_process, [], "fr", b"", 1)
                    for _ in range(self._processes)
                )
            )

    async def close(self) -> None:
        """Stop the scrubbing processes."""
        if self._pool is not None:
            await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)

    async def scrub(
        self, texts: Sequence[str | None], *, language: str, repeated: Collection[int] = ()
    ) -> list[str | None]:
        """``texts`` with their identifiers replaced (None stays None); the texts at the
        positions in ``repeated`` are looked up first among those already scrubbed."""
        out: list[str | None] = list(texts)
        todo: list[int] = []
        for i, text in enumerate(texts):
            if not text:
                continue
            digest = self._hash(text, language) if i in repeated else None
            known = self._known.get(digest) if digest is not None else None
            if known is None:
                todo.append(i)
            else:
                self._known.move_to_end(digest)  # type: ignore[arg-type]
                out[i] = known
        if todo:
            pending = [texts[i] or "" for i in todo]
            if self._pool is None:
                scrubbed = await asyncio.to_thread(self._here, pending, language)
            else:
                scrubbed = await self._in_pool(pending, language)
            for i, text in zip(todo, scrubbed, strict=True):
                out[i] = text
                if i in repeated:
                    self._remember(self._hash(texts[i] or "", language), text)
        return out

    async def _in_pool(self, texts: list[str], language: str) -> list[str]:
        loop = asyncio.get_running_loop()
        call = partial(scrub_in_process, texts, language, self._key, self._version)
        pool = self._pool
        assert pool is not None
        try:
            return await loop.run_in_executor(pool, call)
        except BrokenProcessPool:
            # A scrubbing process died (killed, out of memory) and took the pool with it: a new
            # pool takes over, once for all the submissions that saw this one break, and the
            # texts are scrubbed there.
            if self._pool is pool:
                log.error("a scrubbing process died; starting the pool again")
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            return await loop.run_in_executor(self._pool, call)

    def _here(self, texts: list[str], language: str) -> list[str]:
        key, version = self._key, self._version
        return [self._scrubber.scrub(t, key=key, language=language, version=version) for t in texts]

    @staticmethod
    def _hash(text: str, language: str) -> bytes:
        return hashlib.sha256(f"{language}\0{text}".encode("utf-8", "surrogatepass")).digest()

    def _remember(self, digest: bytes, scrubbed: str) -> None:
        self._known[digest] = scrubbed
        self._known.move_to_end(digest)
        while len(self._known) > self._max_known:
            self._known.popitem(last=False)
