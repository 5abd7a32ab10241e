"""A submission's texts scrubbed off the event loop: the same answer in a thread or in processes
of their own, repeated texts remembered, never a text left in clear."""

from __future__ import annotations

import asyncio
import os
import signal

from services.common.deid import Scrubber, load_scrubber
from services.ingest.reports.scrubbing import TextScrubber

KEY = b"unit-test-key"
TEXTS = [
    "Mme Jeanne ROUSSEAU, née le 12/03/1947, IPP 40012345, rappeler au 06 12 34 56 78 : le "
    "logiciel n'a pas signalé le nodule.",
    "CHU de Bordeaux",
    None,
    "Aucun nodule détecté chez M. Paul Martin.",
]
IDENTIFIERS = ("ROUSSEAU", "12/03/1947", "40012345", "06 12 34 56 78", "Paul Martin")


class Counting:
    """The real scrubber, counting the texts it is given."""

    def __init__(self, scrubber: Scrubber) -> None:
        self.scrubber = scrubber
        self.texts: list[str] = []

    def scrub(self, text: str, *, key: bytes, language: str = "fr", version: int = 1) -> str:
        self.texts.append(text)
        return self.scrubber.scrub(text, key=key, language=language, version=version)


def expected(language: str = "fr") -> list[str | None]:
    scrubber = load_scrubber()
    return [scrubber.scrub(t, key=KEY, language=language) if t else None for t in TEXTS]


def test_in_a_thread_each_text_is_scrubbed_as_the_scrubber_does() -> None:
    texts = TextScrubber(load_scrubber(), key=KEY, version=1)
    scrubbed = asyncio.run(texts.scrub(TEXTS, language="fr"))
    assert scrubbed == expected()
    assert scrubbed[2] is None
    for identifier in IDENTIFIERS:
        assert not any(identifier in text for text in scrubbed if text)


def test_repeated_texts_are_scrubbed_once_and_the_others_every_time() -> None:
    counting = Counting(load_scrubber())
    texts = TextScrubber(counting, key=KEY, version=1)  # type: ignore[arg-type]

    async def twice() -> tuple[list[str | None], list[str | None]]:
        first = await texts.scrub(TEXTS, language="fr", repeated={1, 3})
        again = await texts.scrub(TEXTS, language="fr", repeated={1, 3})
        return first, again

    first, again = asyncio.run(twice())
    assert first == again == expected()
    assert counting.texts == [TEXTS[0], TEXTS[1], TEXTS[3], TEXTS[0]]


def test_a_text_is_remembered_per_language() -> None:
    counting = Counting(load_scrubber())
    texts = TextScrubber(counting, key=KEY, version=1)  # type: ignore[arg-type]

    async def both() -> None:
        await texts.scrub([TEXTS[3]], language="fr", repeated={0})
        await texts.scrub([TEXTS[3]], language="en", repeated={0})

    asyncio.run(both())
    assert counting.texts == [TEXTS[3], TEXTS[3]]


def test_only_the_most_recent_texts_are_remembered() -> None:
    counting = Counting(load_scrubber())
    texts = TextScrubber(counting, key=KEY, version=1, remembered=2)  # type: ignore[arg-type]
    names = ["Clinique A", "Clinique B", "Clinique C"]

    async def run() -> None:
        for name in [*names, names[0]]:
            await texts.scrub([name], language="fr", repeated={0})

    asyncio.run(run())
    # C pushed A out: A is scrubbed again.
    assert counting.texts == [*names, names[0]]


def test_in_processes_of_their_own_the_texts_come_back_as_in_a_thread() -> None:
    texts = TextScrubber(load_scrubber(), key=KEY, version=1, processes=2)

    async def run() -> list[list[str | None]]:
        await texts.start()
        try:
            return list(
                await asyncio.gather(*(texts.scrub(TEXTS, language="fr") for _ in range(3)))
            )
        finally:
            await texts.close()

    for scrubbed in asyncio.run(run()):
        assert scrubbed == expected()


def test_a_scrubbing_process_that_dies_is_replaced_and_the_texts_still_scrubbed() -> None:
    texts = TextScrubber(load_scrubber(), key=KEY, version=1, processes=1)

    async def run() -> list[str | None]:
        await texts.start()
        try:
            loop = asyncio.get_running_loop()
            pid = await loop.run_in_executor(texts._pool, os.getpid)
            os.kill(pid, signal.SIGKILL)
            return await texts.scrub(TEXTS, language="fr")
        finally:
            await texts.close()

    assert asyncio.run(run()) == expected()
