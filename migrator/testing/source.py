"""The checks every source passes (see `SourceConformance`)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ..api import Source
from ..records import CHUNK, MEDIA, Container, Document, Entry, Item, Original, check_id, dumps, json_schema
from ..run import fingerprint
from .base import Conformance
from .harness import Harness, plugin_class
from .sink import wrong_secrets

try:  # a test extra: without it the schema checks are skipped, the rest still runs
    import jsonschema
except ImportError:  # pragma: no cover
    jsonschema = None


def validate(kind: str, data: dict[str, Any]) -> None:
    if jsonschema is None:
        return
    error = jsonschema.exceptions.best_match(_validator(kind).iter_errors(data))
    assert error is None, f"{kind} {data.get('id')!r} does not match migrator/schema/{kind}.schema.json: " \
                          f"{error.message} at {'/'.join(map(str, error.absolute_path))}"


@functools.cache
def _validator(kind: str) -> Any:
    return jsonschema.Draft202012Validator(json_schema(kind))


def assert_valid_record(record: Document | Container) -> None:
    """A record any sink can take: it matches its JSON Schema and its JSON form writes as UTF-8 (a lone
    surrogate in a title would not). For parser tests and fuzzing; needs jsonschema."""
    assert jsonschema is not None, "assert_valid_record needs jsonschema: pip install 'migrator[test]'"
    kind = "container" if isinstance(record, Container) else "document"
    data = record.to_json()
    validate(kind, data)
    json.dumps(data, ensure_ascii=False).encode("utf-8")


class SourceConformance(Conformance):
    """Subclass it in a module named `test_*.py`, in a class named `Test*`:

        class TestMySource(SourceConformance):
            source = "mysource"                  # the registered name, or the Source class itself

            @pytest.fixture
            def source_options(self, tmp_path):  # option values for a small, non-empty account
                return {"path": make_some_documents(tmp_path)}

    `unlisted_members = "why"` allows containers to name documents the listing does not hold.

    Optional hook: `rewrite_original(source, entry) -> bool` gives a listed document other bytes of the same
    size at the source, as when a person edits the photo (False, the default: this test cannot, and that
    check is skipped). The suite then lists again and checks that the entry and the record changed.
    Ids must follow `migrator.records.check_id` and name the same document on every listing.
    """

    source: ClassVar[str | type[Source]]
    unlisted_members: ClassVar[str | None] = None

    @pytest.fixture
    def source_options(self) -> dict[str, Any]:
        pytest.fail(f"{type(self).__name__} must define a `source_options` fixture returning the source's options")

    @pytest.fixture
    def harness(self, source_options: dict[str, Any], tmp_path: Path) -> Iterator[Harness]:
        h = Harness(tmp_path / "harness")
        yield h
        h.shutdown()

    @pytest.fixture
    def source_class(self, source_options: dict[str, Any]) -> type[Source]:
        return plugin_class(self.source, "source")

    @pytest.fixture
    def make_source(self, source_options: dict[str, Any], harness: Harness,
                    source_class: type[Source]) -> Callable[..., Source]:
        """`make_source(dry_run=False, **option_overrides)`: a new source, opened and bound to the state."""

        def make(dry_run: bool = False, **overrides: Any) -> Source:
            return harness.source(source_class, {**source_options, **overrides}, dry_run=dry_run)

        return make

    @pytest.fixture
    def listed(self, make_source: Callable[..., Source], harness: Harness) -> tuple[Source, list[Entry]]:
        source = make_source()
        entries = harness.entries(source)
        assert entries, f"{source.context.name} listed nothing: give the conformance test a non-empty account"
        return source, entries

    def rewrite_original(self, source: Source, entry: Entry) -> bool:
        """Give `entry`'s document other bytes of the same size at the source; False: this test cannot."""
        return False

    @staticmethod
    def load(harness: Harness, entry: Entry) -> Item:
        item = harness.call(entry.load, what=f"Entry.load() of {entry.key}")
        assert isinstance(item, Item), f"{entry.key}: load() returned {item!r}, not a migrator.Item"
        return item

    # -- the checks -----------------------------------------------------------------------------------
    def test_open_account_close(self, make_source: Callable[..., Source], harness: Harness) -> None:
        first = make_source()
        harness.close(first)
        second = make_source()
        a, b = harness.accounts[id(first)], harness.accounts[id(second)]
        assert a == b, f"account() differs between two instances with the same options: {a!r} != {b!r}"
        harness.close(second)
        dry = make_source(dry_run=True)  # `--dry-run` lists too
        assert harness.entries(dry), "nothing listed in a dry run"
        harness.close(dry)

    def test_entries(self, listed: tuple[Source, list[Entry]], harness: Harness) -> None:
        """Entries with source and id, unique, ascending bookmarks, a total that matches."""
        source, entries = listed
        for entry in entries:
            assert isinstance(entry, Entry), f"entries() yielded {entry!r}, not a migrator.Entry"
            assert isinstance(entry.source, str) and entry.source, f"{entry!r}: empty source"
            assert isinstance(entry.id, str) and entry.id, f"{entry!r}: empty id"
            try:
                check_id(entry.id)
            except ValueError as exc:
                raise AssertionError(f"{entry.key}: {exc} (the id rule: migrator.records.check_id)") from None
            assert callable(entry.load), f"{entry.key}: load is not callable"
            assert entry.updated_at is None or isinstance(entry.updated_at, str), f"{entry.key}: updated_at not a str"
            assert entry.bookmark is None or isinstance(entry.bookmark, str), f"{entry.key}: bookmark not a str"
            assert entry.size is None or (isinstance(entry.size, int) and entry.size >= 0), f"{entry.key}: size"
            assert isinstance(entry.title, str), f"{entry.key}: title is not a str"
        keys = [e.key for e in entries]
        assert len(set(keys)) == len(keys), f"entries listed twice: {sorted({k for k in keys if keys.count(k) > 1})}"
        marks = [e.bookmark for e in entries if e.bookmark is not None]
        assert all(a < b for a, b in zip(marks, marks[1:])), \
            "bookmarks must strictly ascend in listing order (the core saves the last one of a completed prefix)"
        total = harness.call(source.total)
        assert total is None or total == len(entries), f"total() said {total}, entries() listed {len(entries)}"

    def test_ids_stable_between_listings(self, listed: tuple[Source, list[Entry]], harness: Harness,
                                         make_source: Callable[..., Source]) -> None:
        """The next run lists the same ids for the same documents: the state is keyed by them."""
        source, entries = listed
        harness.close(source)
        again = harness.entries(make_source())
        first = {e.key: e for e in entries}
        second = {e.key: e for e in again}
        gone, came = sorted(first.keys() - second.keys()), sorted(second.keys() - first.keys())
        assert not gone and not came, (
            f"{source.context.name} listed other ids the second time, the account unchanged: {gone[:3]} became "
            f"{came[:3]} ({len(gone)} of {len(first)} ids changed). An id must name the same document on every "
            "listing (derive it from what identifies the document, never from the listing's order or time): "
            "the state is keyed by it, and a new id migrates the document again")
        moved = [k for k in first if (first[k].title, first[k].size) != (second[k].title, second[k].size)]
        assert not moved, f"{source.context.name}: the same id names another document on the next listing: {moved[:3]}"

    def test_record_changes_with_its_file(self, listed: tuple[Source, list[Entry]], harness: Harness,
                                          make_source: Callable[..., Source]) -> None:
        """After the file of a document is rewritten (same size, other bytes), its entry looks changed (or has
        no updated_at) and its record differs: the core hands an identical record to no sink, so a record
        that does not change keeps every copy stale."""
        source, entries = listed
        entry = next((e for e in entries if self.load(harness, e).original is not None), None)
        assert entry is not None, "no listed document has an original: give the conformance test some files"
        before = self.load(harness, entry)
        size, digest = read_original(harness, before.original, entry.key)
        if not self.rewrite_original(source, entry):
            pytest.skip("define rewrite_original(source, entry) to check that a changed file changes the record")
        harness.close(source)
        name = source.context.name
        later = {e.key: e for e in harness.entries(make_source())}
        assert entry.key in later, \
            f"{entry.key} is gone from the listing after its file was rewritten: is its id stable between listings?"
        changed = later[entry.key]
        assert changed.updated_at is None or changed.updated_at != entry.updated_at, (
            f"{name}: Entry.updated_at of {entry.key} stayed {entry.updated_at!r} after its file was rewritten: the "
            "core compares it with what the sinks stored and does not even load the document")
        after = self.load(harness, changed)
        new_size, new_digest = read_original(harness, after.original, entry.key)
        assert (new_size, new_digest) != (size, digest), "rewrite_original did not change the bytes the source gives"
        assert fingerprint(after.document) != fingerprint(before.document), (
            f"{name} gave the same record for {entry.key} after its file was rewritten with other bytes of the "
            "same size: the core then hands it to no sink (their copies stay stale). Put something of the file "
            "in the record: FileInfo.md5 or sha256 (best), or its size and modification time")

    def test_documents_round_trip(self, listed: tuple[Source, list[Entry]], harness: Harness) -> None:
        """Each loaded document is the entry's, survives JSON and matches the JSON Schema."""
        _, entries = listed
        for entry in entries:
            item = self.load(harness, entry)
            doc = item.document
            assert isinstance(doc, Document), f"{entry.key}: Item.document is {type(doc).__name__}"
            assert (doc.source, doc.id) == (entry.source, entry.id), \
                f"entry {entry.key} loaded document {doc.key}: the state is keyed by the entry, sinks by the record"
            assert doc.media in MEDIA, f"{doc.key}: media {doc.media!r}"
            data = json.loads(dumps(doc))
            assert Document.from_json(data) == doc, f"{doc.key} changes through its JSON form (tuples? NaN?)"
            validate("document", data)
            assert item.original is None or isinstance(item.original, Original), f"{doc.key}: original type"
        again = self.load(harness, entries[0])
        assert again.document == self.load(harness, entries[0]).document, "loading twice gives other records"

    def test_originals_readable(self, listed: tuple[Source, list[Entry]], harness: Harness) -> None:
        """Every original streams in chunks to its announced size (and hash), afresh on each open()."""
        _, entries = listed
        checked = 0
        for entry in entries:
            item = self.load(harness, entry)
            if item.original is None:
                continue
            size, digest = read_original(harness, item.original, entry.key)
            for what, announced in (("Original.size", item.original.size), ("Entry.size", entry.size),
                                    ("FileInfo.size", item.document.file.size if item.document.file else None)):
                assert announced is None or announced == size, f"{entry.key}: {what} {announced}, read {size} bytes"
            if checked == 0:
                assert read_original(harness, item.original, entry.key) == (size, digest), \
                    f"{entry.key}: a second open() gave other bytes (each open() must be a fresh stream)"
            checked += 1
        assert checked, "no listed document has an original: give the conformance test some files"

    def test_containers(self, listed: tuple[Source, list[Entry]], harness: Harness) -> None:
        """Containers survive JSON, match the schema and name only listed documents and containers;
        documents' album references agree with the albums."""
        source, entries = listed
        containers = harness.containers(source)
        ids = {(e.source, e.id) for e in entries}
        by_key = {}
        for c in containers:
            assert isinstance(c, Container), f"containers() yielded {c!r}"
            data = json.loads(dumps(c))
            assert Container.from_json(data) == c, f"container {c.key} changes through its JSON form"
            validate("container", data)
            assert c.key not in by_key, f"container {c.key} listed twice"
            by_key[c.key] = c
        container_ids = {(c.source, c.id) for c in containers}
        for c in containers:
            pool = ids if c.member_kind == "document" else container_ids
            unknown = [m for m in c.members if (c.source, m) not in pool]
            assert not unknown or self.unlisted_members, (
                f"{c.key} names {c.member_kind}s the source did not list: {unknown[:10]} (set `unlisted_members` "
                "to the reason if that is intended)")
            assert len(set(c.members)) == len(c.members), f"{c.key} names a member twice"
        albums = {(c.source, c.id): c for c in containers if c.member_kind == "document"}
        for entry in entries:
            doc = self.load(harness, entry).document
            for ref in doc.albums:
                album = albums.get((doc.source, ref.id))
                if album is None:
                    assert self.unlisted_members, f"{doc.key} is in album {ref.id!r}, which containers() did not list"
                    continue
                assert doc.id in album.members, f"{doc.key} says it is in {album.key}, whose members omit it"
                if ref.position is not None:
                    assert album.members.index(doc.id) + 1 == ref.position, \
                        f"{doc.key} is number {ref.position} of {album.key} but member number " \
                        f"{album.members.index(doc.id) + 1}"

    def test_bookmark_never_hides_newer(self, listed: tuple[Source, list[Entry]], harness: Harness,
                                        make_source: Callable[..., Source]) -> None:
        """With the bookmark of a middle entry saved, the next listing still holds every later entry."""
        source, entries = listed
        marked = [i for i, e in enumerate(entries) if e.bookmark is not None]
        if not marked:
            pytest.skip(f"{source.context.name} gives no bookmarks")
        middle = marked[len(marked) // 2]
        harness.state.set_bookmark(harness.chains[id(source)], entries[middle].bookmark)
        later = make_source()
        assert later.context.bookmark == entries[middle].bookmark
        again = {e.key for e in harness.entries(later)}
        hidden = [e.key for e in entries[middle + 1:] if e.key not in again]
        assert not hidden, f"after bookmark {entries[middle].bookmark!r} the listing lost later entries: {hidden[:10]}"

    def test_secrets_stay_secret(self, listed: tuple[Source, list[Entry]], harness: Harness,
                                 source_class: type[Source]) -> None:
        if not any(o.secret for o in source_class.options):
            pytest.skip(f"{source_class.name} has no secret options")
        source, entries = listed
        for entry in entries[:3]:
            item = self.load(harness, entry)
            if item.original is not None:
                read_original(harness, item.original, entry.key)
        harness.containers(source)
        harness.assert_secrets_kept()

    def test_wrong_secret_fails_cleanly(self, source_options: dict[str, Any], harness: Harness,
                                        source_class: type[Source]) -> None:
        """Each secret option set to a wrong value: open() or listing raises a migrator error
        (AuthorizationNeeded, UsageError...) that does not quote the value, never a raw exception."""

        def use(source: Source) -> None:
            entries = harness.entries(source)
            if entries:
                self.load(harness, entries[0])

        wrong_secrets(harness, source_class, "source", source_options, use)


def read_original(harness: Harness, original: Original, label: str) -> tuple[int, str]:
    """Read a whole original in CHUNK reads: (bytes read, sha256). The reader checks size and hash."""

    def read() -> tuple[int, str]:
        with original.open() as stream:
            while chunk := stream.read(CHUNK):
                assert len(chunk) <= CHUNK, f"{label}: read({CHUNK}) returned {len(chunk)} bytes"
            assert stream.sha256 is not None
            return stream.bytes_read, stream.sha256

    return harness.call(read, what=f"reading the original of {label}")
