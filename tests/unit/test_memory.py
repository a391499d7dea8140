"""The translation memory: one contract suite that every backend passes, and the key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tl_loop import ConfigurationError
from tl_loop.stores import (
    InMemoryTranslationMemory,
    MemoryEntry,
    SQLiteTranslationMemory,
    TranslationMemory,
    memory_key,
)


def entry(
    source_text: str = "Hola ⟦0⟧, gracias.",
    target_text: str = "Hi ⟦0⟧, thanks.",
    *,
    source: str = "es",
    target: str = "en",
    glossary_version: str | None = "v1",
    **options: object,
) -> MemoryEntry:
    return MemoryEntry(
        source_text=source_text,
        target_text=target_text,
        source=source,
        target=target,
        glossary_version=glossary_version,
        **options,  # type: ignore[arg-type]
    )


def lookup(memory: TranslationMemory, item: MemoryEntry) -> MemoryEntry | None:
    return memory.get(
        source_text=item.source_text,
        source=item.source,
        target=item.target,
        glossary_version=item.glossary_version,
    )


class MemoryContract:
    """What every `TranslationMemory` does; subclass it and provide a `memory` fixture.

    Redis and PostgreSQL backends run this same suite against their real servers.
    """

    @pytest.fixture
    def memory(self) -> Iterator[TranslationMemory]:
        raise NotImplementedError("subclasses provide the memory under test")

    def test_an_approved_translation_is_found_again(self, memory: TranslationMemory) -> None:
        stored = entry(author="ana", origin="edited")
        memory.put(stored)
        assert lookup(memory, stored) == stored

    def test_an_unknown_segment_is_a_miss(self, memory: TranslationMemory) -> None:
        memory.put(entry())
        assert lookup(memory, entry(source_text="Adiós")) is None

    def test_whitespace_differences_still_match(self, memory: TranslationMemory) -> None:
        memory.put(entry("Hola ⟦0⟧, gracias."))
        found = memory.get(
            source_text="  Hola \n ⟦0⟧,\tgracias. ", source="es", target="en", glossary_version="v1"
        )
        assert found is not None
        assert found.target_text == "Hi ⟦0⟧, thanks."

    def test_language_tags_match_in_any_spelling(self, memory: TranslationMemory) -> None:
        memory.put(entry(target="pt_br"))
        found = memory.get(
            source_text="Hola ⟦0⟧, gracias.", source="ES", target="pt-BR", glossary_version="v1"
        )
        assert found is not None
        assert found.target == "pt-BR"

    def test_another_glossary_version_or_pair_misses(self, memory: TranslationMemory) -> None:
        memory.put(entry(glossary_version="v1"))
        assert lookup(memory, entry(glossary_version="v2")) is None
        assert lookup(memory, entry(glossary_version=None)) is None
        assert lookup(memory, entry(target="fr")) is None
        assert lookup(memory, entry(source="pt")) is None

    def test_the_latest_human_wins(self, memory: TranslationMemory) -> None:
        memory.put(entry(target_text="Hi ⟦0⟧, thanks.", author="ana"))
        memory.put(entry(target_text="Hello ⟦0⟧, thank you.", author="ben", origin="edited"))
        found = lookup(memory, entry())
        assert found is not None
        assert (found.target_text, found.author, found.origin) == (
            "Hello ⟦0⟧, thank you.",
            "ben",
            "edited",
        )
        assert len(memory) == 1

    def test_within_one_batch_the_later_entry_wins(self, memory: TranslationMemory) -> None:
        memory.put_many([entry(target_text="first"), entry(target_text="second")])
        found = lookup(memory, entry())
        assert found is not None
        assert found.target_text == "second"
        assert len(memory) == 1

    def test_get_many_answers_each_key_in_order(self, memory: TranslationMemory) -> None:
        one, two = entry("uno", "one"), entry("dos", "two")
        memory.put_many([one, two])
        missing = memory_key(source_text="tres", source="es", target="en", glossary_version="v1")
        assert memory.get_many([two.key, missing, one.key, two.key]) == [two, None, one, two]
        assert memory.get_many([]) == []

    def test_get_many_handles_more_keys_than_one_query_holds(
        self, memory: TranslationMemory
    ) -> None:
        stored = [entry(f"frase {n}", f"sentence {n}") for n in range(1200)]
        memory.put_many(stored)
        assert memory.get_many([item.key for item in stored]) == stored

    def test_entries_lists_everything_or_one_pair(self, memory: TranslationMemory) -> None:
        english = [entry(f"frase {n}", f"sentence {n}") for n in range(1100)]
        french = entry("frase", "phrase", target="fr")
        portuguese = entry("phrase", "frase", source="fr", target="pt")
        memory.put_many([*english, french, portuguese])
        assert len(memory) == 1102
        assert len(list(memory.entries())) == 1102
        assert sorted(memory.entries(target="en"), key=str) == sorted(english, key=str)
        assert list(memory.entries(source="es", target="fr")) == [french]
        assert list(memory.entries(source="FR")) == [portuguese]
        assert list(memory.entries(source="de")) == []

    def test_every_field_survives_storage(self, memory: TranslationMemory) -> None:
        created = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=-5)))
        stored = entry(
            ' \t<b>"Ünïcødé" & 🙂\n',
            "ok\r\n",
            glossary_version=None,
            author="Zoë",
            origin="imported",
            created_at=created,
        )
        memory.put(stored)
        found = lookup(memory, stored)
        assert found == stored
        assert found is not None
        assert found.created_at == created
        assert found.created_at.tzinfo == UTC

    def test_threads_share_one_memory(self, memory: TranslationMemory) -> None:
        errors: list[BaseException] = []

        def work(worker: int) -> None:
            try:
                for n in range(50):
                    item = entry(f"w{worker} n{n}", f"t{worker} {n}")
                    memory.put(item)
                    assert lookup(memory, item) == item
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(memory) == 400

    def test_a_bad_language_tag_is_a_configuration_error(self, memory: TranslationMemory) -> None:
        with pytest.raises(ConfigurationError, match="language"):
            memory.get(source_text="x", source="not a tag!", target="en", glossary_version=None)
        with pytest.raises(ConfigurationError, match="language"):
            list(memory.entries(target="??"))


class TestInMemoryTranslationMemory(MemoryContract):
    @pytest.fixture
    def memory(self) -> Iterator[TranslationMemory]:
        with InMemoryTranslationMemory() as memory:
            yield memory


class TestSQLiteTranslationMemory(MemoryContract):
    @pytest.fixture
    def memory(self) -> Iterator[TranslationMemory]:
        with SQLiteTranslationMemory(":memory:") as memory:
            yield memory


def test_sqlite_memory_is_kept_between_runs(tmp_path: Path) -> None:
    path = tmp_path / "memory.sqlite3"
    stored = entry(author="ana")
    with SQLiteTranslationMemory(path) as memory:
        memory.put(stored)
    with SQLiteTranslationMemory(path) as memory:
        assert lookup(memory, stored) == stored
        assert len(memory) == 1


def test_sqlite_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not SQLite\n" * 100)
    with pytest.raises(ConfigurationError, match=r"notes\.txt"):
        SQLiteTranslationMemory(path)


def test_memory_key_ignores_whitespace_and_composition_only() -> None:
    def key(text: str, glossary_version: str | None = None) -> str:
        return memory_key(
            source_text=text, source="es", target="en", glossary_version=glossary_version
        )

    assert key(" Hola\u00a0 mundo\n") == key("Hola mundo")
    assert key("cafe\u0301") == key("café")
    assert key("Hola mundo") != key("Hola  mundo!")
    assert key("Hola ⟦0⟧") != key("Hola ⟦1⟧")
    assert key("x", None) != key("x", "None")
    assert len(key("x")) == 64


def test_memory_key_fields_cannot_run_into_each_other() -> None:
    first = memory_key(source_text="b", source="es", target="en", glossary_version="a")
    second = memory_key(source_text="ab", source="es", target="en", glossary_version="")
    assert first != second


def test_an_entry_needs_an_aware_time_and_a_known_origin() -> None:
    with pytest.raises(ConfigurationError, match="timezone"):
        entry(created_at=datetime(2024, 1, 1))
    with pytest.raises(ConfigurationError, match="origin"):
        entry(origin="machine")
    with pytest.raises(ConfigurationError, match="language"):
        entry(source="")


def test_entries_are_stamped_now_in_utc() -> None:
    before = datetime.now(UTC)
    stamped = entry()
    assert before <= stamped.created_at <= datetime.now(UTC)
    assert stamped.created_at.tzinfo == UTC
