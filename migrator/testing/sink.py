"""The checks every sink passes (see `SinkConformance`)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ..api import Sink, Stored
from ..errors import DocumentError, MigratorError, SkipDocument
from ..records import AlbumRef, Container, Document, Item
from . import samples
from .base import Conformance
from .harness import Harness, plugin_class
from .samples import HOSTILE_IDS, HOSTILE_TEXT, SOURCE, TrackedOriginal, item, jpeg

BROKEN_STREAMS = ("short", "corrupt", "reset")
OTHER_MEDIA = {"audio-without-original": ("audio", "none"), "other-file": ("other", "ok"), "video": ("video", "ok")}


class SinkConformance(Conformance):
    """Subclass it in a module named `test_*.py`, in a class named `Test*`:

        class TestMySink(SinkConformance):
            sink = "mysink"                      # the registered name, or the Sink class itself

            @pytest.fixture
            def sink_options(self, tmp_path):    # option values; may start a sandbox and yield
                return {"path": tmp_path / "out"}

    Optional hooks make the checks sharper: `count_copies(sink, document)` (how many copies of the
    document the target holds) and `read_back(sink, stored)` (the bytes stored under `stored.ref`).

    What the checks hold a sink to, beyond storing a document whole: the same record stored again says
    "unchanged"; other bytes of the same size replace the copy and its reported size and sha256; a
    stream that fails midway leaves nothing behind (no copy, no partial file anywhere under tmp_path);
    every id of `HOSTILE_IDS` is kept apart from the others and found again; and after a lost state (the
    same target, an empty state store) the sink finds what it stored instead of creating it again.
    """

    sink: ClassVar[str | type[Sink]]
    supports_albums: ClassVar[bool] = True  # False: store_container may raise SkipDocument for albums

    # -- what a plugin's test provides ----------------------------------------------------------------
    @pytest.fixture
    def sink_options(self) -> dict[str, Any]:
        pytest.fail(f"{type(self).__name__} must define a `sink_options` fixture returning the sink's option values")

    def count_copies(self, sink: Sink, document: Document) -> int | None:
        """How many copies of `document` (one with an original) the target holds (None: cannot tell)."""
        return None

    def read_back(self, sink: Sink, stored: Stored) -> bytes | None:
        """The original's bytes as stored under `stored.ref` (None: this test cannot tell)."""
        return None

    # -- fixtures ---------------------------------------------------------------------------------------
    @pytest.fixture
    def harness(self, sink_options: dict[str, Any], tmp_path: Path) -> Iterator[Harness]:
        h = Harness(tmp_path / "harness")
        yield h
        h.shutdown()

    @pytest.fixture
    def lost_state(self, sink_options: dict[str, Any], tmp_path: Path) -> Iterator[Harness]:
        """A second harness with its own, empty state store: the next run after the state file was lost."""
        h = Harness(tmp_path / "lost-state")
        yield h
        h.shutdown()

    @pytest.fixture
    def sink_class(self, sink_options: dict[str, Any]) -> type[Sink]:
        return plugin_class(self.sink, "sink")

    @pytest.fixture
    def make_sink(self, sink_options: dict[str, Any], harness: Harness,
                  sink_class: type[Sink]) -> Callable[..., Sink]:
        """`make_sink(dry_run=False, **option_overrides)`: a new sink instance, opened and bound to the
        harness's state store (a second call is what the next run sees)."""

        def make(dry_run: bool = False, **overrides: Any) -> Sink:
            return harness.sink(sink_class, {**sink_options, **overrides}, dry_run=dry_run)

        return make

    # -- assertions ---------------------------------------------------------------------------------------
    def assert_copies(self, sink: Sink, document: Document, expected: int) -> None:
        copies = self.count_copies(sink, document)
        assert copies is None or copies == expected, \
            f"{sink.context.name} holds {copies} copies of {document.key}, expected {expected}"

    def assert_stored_original(self, sink: Sink, stored: Stored, it: Item) -> None:
        """A newly stored document: a ref, status "new", the original read to its end, the right bytes."""
        name, key = sink.context.name, it.document.key
        assert stored.ref, f"{name}.store returned an empty ref for {key}"
        assert stored.status == "new", f"{name}.store said {stored.status!r} for the new document {key}"
        self.assert_holds(sink, stored, it)

    def assert_holds(self, sink: Sink, stored: Stored, it: Item, copies: int | None = 1) -> None:
        """The original was read to its end; the reported size and sha256, the local copy and what the target
        holds under the ref (as far as the hooks tell) are the original's bytes; `copies` copies (None: any)."""
        name, original, key = sink.context.name, it.original, it.document.key
        if isinstance(original, TrackedOriginal):
            data = original.data
            assert original.fully_read, (
                f"{name}.store did not read the original of {key} to its end (streams opened: "
                f"{[(r.bytes_read, r.sha256 is not None) for r in original.readers]}, size {original.size}); "
                "only the end of the stream checks size and hash")
            if stored.size is not None:
                assert stored.size == len(data), f"Stored.size {stored.size} but the original has {len(data)} bytes"
            if stored.sha256:
                assert stored.sha256 == hashlib.sha256(data).hexdigest(), \
                    f"{name} reported Stored.sha256 {stored.sha256[:16]}... for {key}, but its original's bytes hash " \
                    f"to {hashlib.sha256(data).hexdigest()[:16]}...: report the hash of the bytes stored this time"
            if original.path is not None:
                assert Path(original.path).read_bytes() == data, \
                    f"{name} said Stored.local_copy={original.path} but that file does not hold the original"
            back = self.read_back(sink, stored)
            assert back is None or back == data, f"{name} holds other bytes than the original under {stored.ref!r}"
            if copies is not None:
                self.assert_copies(sink, it.document, copies)

    # -- the checks -----------------------------------------------------------------------------------------
    def test_open_account_close(self, make_sink: Callable[..., Sink], harness: Harness) -> None:
        """open() and account() work, the account is stable across instances, close() works; dry run too."""
        first = make_sink()
        harness.finish(first)
        harness.close(first)
        second = make_sink()  # the next run (one at a time: a sink may lock its target)
        a, b = harness.accounts[id(first)], harness.accounts[id(second)]
        assert a == b, f"account() differs between two instances with the same options: {a!r} != {b!r}"
        harness.close(second)
        harness.close(make_sink(dry_run=True))

    def test_store_new_document(self, make_sink: Callable[..., Sink], harness: Harness) -> None:
        sink = make_sink()
        it = item("new-1")
        self.assert_stored_original(sink, harness.store(sink, it), it)

    def test_store_again_does_not_copy(self, make_sink: Callable[..., Sink], harness: Harness) -> None:
        """Next run, same document: unchanged, nothing is read from the source; store() with `previous`
        keeps the one copy."""
        sink = make_sink()
        first = harness.store(sink, item("again-1"))
        harness.finish(sink)
        harness.close(sink)
        sink = make_sink()
        reused = item("again-1", stream="reuse-only")  # opening this original fails the test
        harness.unchanged(sink, reused)
        if reused.original is not None and reused.original.path is not None:
            assert Path(reused.original.path).read_bytes() == reused.original.data, \
                "the Stored.local_copy of the last run does not hold the original"
        for _ in range(2):
            again = harness.store(sink, item("again-1"))
            assert again.ref == first.ref, f"stored again under another ref: {first.ref!r} then {again.ref!r}"
            assert again.status in ("unchanged", "updated"), f"stored again with status {again.status!r}"
            self.assert_copies(sink, reused.document, 1)
        back = self.read_back(sink, again)
        assert back is None or back == reused.original.data

    def test_changed_metadata_updates_in_place(self, make_sink: Callable[..., Sink], harness: Harness) -> None:
        sink = make_sink()
        first = harness.store(sink, item("meta-1"))
        changed = item("meta-1", title="Renamed at the source", description="new words", tags=["other"])
        again = harness.store(sink, changed)
        assert (again.ref, again.status) == (first.ref, "updated"), \
            f"changed metadata gave ({again.ref!r}, {again.status!r}), expected ({first.ref!r}, 'updated')"
        self.assert_copies(sink, changed.document, 1)

    @pytest.mark.parametrize("stream", BROKEN_STREAMS)
    def test_broken_stream_then_retry(self, make_sink: Callable[..., Sink], harness: Harness, stream: str) -> None:
        """A short, corrupt or interrupted original fails the document (the run loop retries
        TransientError at once); the retry with a good stream stores it whole, once."""
        sink = make_sink()
        with pytest.raises(DocumentError) as failed:
            harness.store(sink, item(f"broken-{stream}", stream=stream))
        assert str(failed.value).strip(), "the error has no message"
        good = item(f"broken-{stream}")
        self.assert_stored_original(sink, harness.store(sink, good), good)

    def test_close_after_failure_is_safe(self, make_sink: Callable[..., Sink], harness: Harness) -> None:
        """Fail, close; the next run stores the document whole (nothing half-stored was taken as good)."""
        sink = make_sink()
        with pytest.raises(DocumentError):
            harness.store(sink, item("fail-close", stream="short"))
        harness.close(sink)
        sink = make_sink()
        good = item("fail-close")
        self.assert_stored_original(sink, harness.store(sink, good), good)
        harness.finish(sink)
        harness.close(sink)
        idle = make_sink()  # a run with nothing to do
        harness.finish(idle)
        harness.close(idle)

    def test_same_record_again_is_unchanged(self, make_sink: Callable[..., Sink], harness: Harness) -> None:
        """store() handed a record it already holds, same record and bytes (the core does that after a failure
        or when its state lost track): the sink says "unchanged", itself. A sink that says "new" every
        time makes each rerun report work that was not done."""
        sink = make_sink()
        first = harness.store(sink, item("same-1"))
        key = f"{SOURCE}:same-1"
        for attempt in ("the same run", "the next run"):
            if attempt == "the next run":
                harness.finish(sink)
                harness.close(sink)
                sink = make_sink()
            again = harness.store(sink, item("same-1"))
            said = harness.said[key]
            assert said == "unchanged", (
                f"{sink.context.name}.store said {said!r} for {key}, which it already holds with the "
                f"same record and bytes ({attempt}): nothing changed, so the status must be 'unchanged' (compare "
                "with what you stored: `previous`, or your own copy)")
            assert again.ref == first.ref, f"stored again under another ref: {first.ref!r} then {again.ref!r}"
            self.assert_copies(sink, samples.document("same-1"), 1)

    def test_same_size_rewrite_replaces_the_copy(self, make_sink: Callable[..., Sink], harness: Harness) -> None:
        """The source's file was rewritten with other bytes of the same size (an edited photo; the record says
        so by its md5): the sink stores the new bytes and reports their size and sha256, not the old ones.
        A sink that cannot replace an original says so in Stored.warnings."""
        old, new = jpeg("rewrite-1 version 1"), jpeg("rewrite-1 version 2")
        sink = make_sink()
        harness.store(sink, item("rewrite-1", data=old))
        harness.finish(sink)
        harness.close(sink)
        sink = make_sink()
        rewritten = item("rewrite-1", data=new, updated_at="2020-06-01T12:00:00Z")
        stored = harness.store(sink, rewritten)
        name, key = sink.context.name, rewritten.document.key
        assert stored.status == "updated", \
            f"{name}.store said {stored.status!r} for {key} after its original was rewritten (same size, other bytes)"
        kept_old = bool(stored.warnings) and self.read_back(sink, stored) == old
        if stored.sha256 == hashlib.sha256(old).hexdigest():
            raise AssertionError(
                f"{name} reported the old sha256 {stored.sha256[:16]}... for {key} after its original was rewritten "
                "with other bytes of the same size: a stale hash. Compare the content (the md5/sha256 the "
                "record announces, or the bytes), never only the size")
        if not kept_old:  # the old version may be kept beside the new one (local keeps it, renamed)
            self.assert_holds(sink, stored, rewritten, copies=None)

    @pytest.mark.parametrize("stream", BROKEN_STREAMS)
    def test_failed_stream_leaves_nothing(self, make_sink: Callable[..., Sink], harness: Harness,
                                          tmp_path: Path, stream: str) -> None:
        """A stream that fails midway: no copy on the target and, once the sink is closed, no file anywhere under
        tmp_path (the target, the work folder) holding part of the original."""
        doc_id = f"leftover-{stream}"
        sink = make_sink()
        with pytest.raises(DocumentError):
            harness.store(sink, item(doc_id, stream=stream))
        self.assert_copies(sink, samples.document(doc_id), 0)
        harness.close(sink)
        marker = f"migrator conformance {doc_id}".encode()
        left = [p for p in files_under(tmp_path, skip={harness.state.path}) if marker in p.read_bytes()]
        assert not left, (
            f"{sink.context.name} left {', '.join(str(p.relative_to(tmp_path)) for p in left)} holding part of the "
            f"original of {SOURCE}:{doc_id} after its stream failed ({stream}): write to a temporary name, move "
            "it into place only once the stream ended without error, and remove it when it fails")

    def test_hostile_ids(self, make_sink: Callable[..., Sink], harness: Harness,
                         lost_state: Harness, sink_class: type[Sink], sink_options: dict[str, Any]) -> None:
        """Every id of HOSTILE_IDS (spaces, `/`, `=`, quotes, case, Unicode forms, 200 characters) is stored
        apart from the others, comes back as the same ref on the next run and after a lost state."""
        sink = make_sink()
        items = {case: item(doc_id) for case, doc_id in HOSTILE_IDS.items()}
        first = {case: harness.store(sink, it) for case, it in items.items()}
        refs: dict[str, str] = {}
        for case, stored in first.items():
            assert stored.ref not in refs, (
                f"{sink.context.name} stored the ids {HOSTILE_IDS[refs.get(stored.ref)]!r} and {HOSTILE_IDS[case]!r} "
                f"under the same ref {stored.ref!r}: distinct ids must stay distinct (never replace or cut "
                "characters without keeping the id whole somewhere, e.g. with a hash of it)")
            refs[stored.ref] = case
        for case, it in items.items():
            self.assert_stored_original(sink, first[case], it)
        harness.finish(sink)
        harness.close(sink)
        runs = (("the next run", harness, make_sink),
                ("a lost state", lost_state, lambda: lost_state.sink(sink_class, sink_options)))
        for when, h, make in runs:
            sink = make()
            for case, doc_id in HOSTILE_IDS.items():
                again = h.store(sink, item(doc_id))
                assert again.ref == first[case].ref, (
                    f"{sink.context.name} did not find the id {doc_id!r} again after {when}: stored under "
                    f"{again.ref!r}, first under {first[case].ref!r}; a sink must find every id it stored (ids "
                    "are compared exactly: case, Unicode form and spaces count)")
                assert again.status != "new", \
                    f"{sink.context.name} said 'new' for the id {doc_id!r} after {when}, though it found it stored"
                self.assert_copies(sink, items[case].document, 1)
            h.finish(sink)
            h.close(sink)

    def test_lost_state_finds_what_it_stored(self, make_sink: Callable[..., Sink], harness: Harness,
                                             lost_state: Harness, sink_class: type[Sink],
                                             sink_options: dict[str, Any]) -> None:
        """The state store was lost (deleted, a new machine) but the target still holds the copies: the rerun
        finds each document (and album) where it is, creates nothing again and does not call it "new"."""
        sink = make_sink()
        album_ref = AlbumRef("lost-album", "Lost and found", 1)
        first = harness.store(sink, item("lost-1", albums=[album_ref]))
        album = Container("album", SOURCE, "lost-album", title="Lost and found", members=["lost-1"])
        first_album = self._container(harness, sink, album, required=self.supports_albums)
        harness.finish(sink)
        harness.close(sink)
        sink = lost_state.sink(sink_class, sink_options)
        name, key = sink.context.name, f"{SOURCE}:lost-1"
        again = lost_state.store(sink, item("lost-1", albums=[album_ref]))
        assert again.ref == first.ref, (
            f"after a lost state (the same target, an empty state store) {name} stored {key} under a new ref "
            f"{again.ref!r} (first {first.ref!r}): it made a second copy. Find your copy from the target itself "
            "(e.g. by the id you write on it), not only from the state or context.memory")
        self.assert_copies(sink, samples.document("lost-1"), 1)
        said = lost_state.said[key]
        assert said != "new", f"after a lost state {name} said 'new' for {key}, which it found already stored"
        again_album = self._container(lost_state, sink, album, required=self.supports_albums)
        if first_album is not None and again_album is not None:
            assert again_album.ref == first_album.ref, (
                f"after a lost state {name} stored album {album.key} under a new ref {again_album.ref!r} "
                f"(first {first_album.ref!r}): it made a second album")
        lost_state.finish(sink)

    @pytest.mark.parametrize("case", sorted(HOSTILE_TEXT))
    def test_hostile_text(self, make_sink: Callable[..., Sink], harness: Harness, case: str) -> None:
        """Titles, descriptions and tags as services send them are accepted, and stable on the next run."""
        text = HOSTILE_TEXT[case]
        fields = {"title": text, "description": text, "tags": [text, "plain"]}
        sink = make_sink()
        it = item(f"hostile-{case}", **fields)
        first = harness.store(sink, it)
        self.assert_stored_original(sink, first, it)
        harness.finish(sink)
        harness.close(sink)
        sink = make_sink()
        again = harness.store(sink, item(f"hostile-{case}", **fields))
        assert again.ref == first.ref and again.status in ("unchanged", "updated"), \
            f"the next run stored it as {again.status!r} under {again.ref!r} (first {first.ref!r})"
        self.assert_copies(sink, it.document, 1)

    @pytest.mark.parametrize("case", sorted(OTHER_MEDIA))
    def test_other_media(self, make_sink: Callable[..., Sink], harness: Harness, case: str) -> None:
        """Audio without an original, a PDF, a video: stored, or a SkipDocument with a reason."""
        media, stream = OTHER_MEDIA[case]
        sink = make_sink()
        it = item(f"media-{case}", media=media, stream=stream)
        try:
            stored = harness.store(sink, it)
        except SkipDocument as exc:
            assert str(exc).strip(), "SkipDocument without a reason: the report shows it to the user"
            return
        self.assert_stored_original(sink, stored, it)

    def test_albums(self, make_sink: Callable[..., Sink], harness: Harness) -> None:
        """An album of stored documents (plus one never stored), an empty album and a collection;
        the next run finds the same album again."""
        title = "Holidays / 2019 .. \u202e\x07"
        members = ["album-doc-1", "album-doc-2"]
        sink = make_sink()
        for position, doc_id in enumerate(members, 1):
            harness.store(sink, item(doc_id, albums=[AlbumRef("album-1", title, position)]))
        album = Container("album", SOURCE, "album-1", title=title, description="<i>ours</i>",
                          members=[*members, "album-never-stored"], position=1, updated_at="2019-05-04T00:00:00Z")
        first = self._container(harness, sink, album, required=self.supports_albums)
        if first is not None and self.supports_albums:
            assert first.ref, f"{sink.context.name}.store_container gave an empty ref for an album"
        self._container(harness, sink, Container("album", SOURCE, "album-empty", title="Nothing yet"), required=False)
        self._container(harness, sink, Container("collection", SOURCE, "collection-1", title="All",
                                                 members=["album-1"], member_kind="container"), required=False)
        harness.finish(sink)
        harness.close(sink)
        sink = make_sink()
        again = self._container(harness, sink, album, required=self.supports_albums)
        if first is not None and again is not None:
            assert again.ref == first.ref and again.status in ("unchanged", "updated"), \
                f"the album came back as {again.status!r} under {again.ref!r} (first {first.ref!r})"
        harness.finish(sink)
        for doc_id in members:
            self.assert_copies(sink, samples.document(doc_id), 1)

    @staticmethod
    def _container(harness: Harness, sink: Sink, container: Container, required: bool) -> Stored | None:
        try:
            return harness.store_container(sink, container)
        except SkipDocument as exc:
            assert not required, f"{sink.context.name} skipped {container.kind} {container.id}: {exc}"
            assert str(exc).strip(), "SkipDocument without a reason"
            return None

    def test_parallel_stores(self, make_sink: Callable[..., Sink], harness: Harness) -> None:
        """store() from several threads at once (`--jobs`), documents sharing an album."""
        sink = make_sink()
        items = [item(f"parallel-{n}", albums=[AlbumRef("album-parallel", "Parallel", n + 1)]) for n in range(8)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda it: harness.store(sink, it), items))
        assert len({r.ref for r in results}) == len(items), "two documents were stored under the same ref"
        for it, stored in zip(items, results):
            self.assert_stored_original(sink, stored, it)

    def test_secrets_stay_secret(self, make_sink: Callable[..., Sink], harness: Harness,
                                 sink_class: type[Sink]) -> None:
        """No secret option value in errors, warnings, logs or the state store."""
        if not any(o.secret for o in sink_class.options):
            pytest.skip(f"{sink_class.name} has no secret options")
        sink = make_sink()
        harness.store(sink, item("secret-1"))
        with pytest.raises(DocumentError):
            harness.store(sink, item("secret-2", stream="short"))
        harness.finish(sink)
        harness.close(sink)
        harness.assert_secrets_kept()

    def test_wrong_secret_fails_cleanly(self, sink_options: dict[str, Any], harness: Harness,
                                        sink_class: type[Sink]) -> None:
        """Each secret option set to a wrong value: open() (or the first store) raises a migrator error
        (AuthorizationNeeded, UsageError...) that does not quote the value, never a raw exception."""
        wrong_secrets(harness, sink_class, "sink", sink_options,
                      lambda sink: harness.store(sink, item("wrong-secret")))


def files_under(root: Path, skip: set[Path]) -> list[Path]:
    """Every regular file under `root` (symlinks not followed), but those in `skip` and their -wal/-shm."""
    skipped = {str(p) for p in skip} | {f"{p}-wal" for p in skip} | {f"{p}-shm" for p in skip} | \
        {f"{p}-journal" for p in skip}
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if str(path) not in skipped and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def wrong_secrets(harness: Harness, cls: type, role: str, options: dict[str, Any],
                  use: Callable[[Any], Any]) -> None:
    secret = [o for o in cls.options if o.secret and o.type is str]
    if not secret:
        pytest.skip(f"{cls.name} has no secret options")
    problems = []
    for option in secret:
        wrong = f"wrong-{option.name}-5e3c9a1f7b2d"
        harness.secrets.add(wrong)
        plugin = harness.instantiate(cls, role, {**options, option.name: wrong})
        try:
            harness.open(plugin)
            use(plugin)
        except MigratorError:
            pass  # the message was checked for secrets on its way out
        except Exception as exc:
            problems.append(f"{option.name}: {type(exc).__name__}: {str(exc).replace(wrong, '<wrong value>')[:300]}")
        finally:
            harness.close(plugin)
    assert not problems, "a wrong secret must raise a migrator error (UsageError, AuthorizationNeeded...):\n" + \
        "\n".join(problems)
