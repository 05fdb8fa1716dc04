"""Property-based fuzzing of backup folders replayed by the `local` source (shared by the local plugin's
fuzz test and the top-level one of other tools' folders).

Each example writes a small backup folder whose metadata is a valid file with fields replaced by junk
(wrong types, [] or "" for objects, huge or negative numbers, NaN, hostile unicode, nested junk), cut
short, or random bytes; then opens the source, loads every entry and reads every container. Property:
a record that passes migrator's JSON Schema, or a DocumentError for that one entry; never any other
exception, and opening the folder never fails.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from local_helpers import make_source

from migrator.errors import DocumentError
from migrator.testing import assert_valid_record

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))  # raise it for a long hunt
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Keys of nested objects in the three formats, so random objects look like the real ones.
KEYS = ["_content", "id", "title", "description", "latitude", "longitude", "accuracy", "public", "friends",
        "family", "position", "author", "text", "posted_at", "parent_id", "x", "y", "width", "height", "name", "ext",
        "size", "md5", "sha256", "content_type", "schema", "kind", "source", "members", "container"]
HOSTILE = ["", " ", "\x00", "\u202eevil", "e\u0301", "\U0001f600", "../../x", "/etc/passwd", "null", "-1", "²",
           "0000-00-00 00:00:00", "2019-02-30 25:61:61", "2019-05-01T10:20:30", "2020-01-01T00:00:00Z",
           "1262304000", "9" * 40, "photo", "video", "jpg", "1", "0"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from([10**400, -(10**30)]),
                    st.floats(), st.text(max_size=12), st.sampled_from(HOSTILE))
JUNK = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=6)),
    max_leaves=8)
PHOTO = b"photo bytes"


def damaged(valid: dict[str, Any], keys: list[str]) -> st.SearchStrategy[bytes]:
    """The bytes of `valid` with some of `keys` replaced by junk or removed, or cut short, or random bytes.
    JSON's NaN and lone surrogate escapes come along: json.dumps writes them."""
    def edited(changes: dict[str, Any], removed: list[str]) -> bytes:
        data = {k: v for k, v in {**valid, **changes}.items() if k not in removed}
        return json.dumps(data, ensure_ascii=True).encode("utf-8")

    text = json.dumps(valid).encode("utf-8")
    mutated = st.builds(edited, st.dictionaries(st.sampled_from(keys), JUNK, max_size=4),
                        st.lists(st.sampled_from(keys), max_size=2))
    return st.one_of(mutated, mutated, st.integers(0, len(text)).map(lambda n: text[:n]), st.binary(max_size=80),
                     st.sampled_from([b'{"title": "\\ud800"}', b"\xef\xbb\xbf{}", b"[]", b"null", b"1e999"]))


def replay(root: Path, fuzzed: tuple[str, str], control: tuple[str, str], files: int) -> None:
    """Open `root` as a `local` source, load each entry and read each container; check the property, and
    that nothing is lost: the fuzzed document and the intact `control` one are listed, and each of the
    `files` metadata files written gives a record or a failing entry."""
    source = make_source(root)
    entries = list(source.entries())
    containers = list(source.containers())
    listed = {(e.source, e.id) for e in entries}
    assert fuzzed in listed and control in listed, listed
    assert len(entries) + len(containers) >= files
    for entry in entries:
        role = "fuzzed" if (entry.source, entry.id) == fuzzed else "other"
        try:
            item = entry.load()
        except DocumentError as exc:
            assert str(exc) and role == "fuzzed" or entry.id.startswith(("album:", "collection:")), str(exc)
            event(f"{role}: DocumentError")
            continue
        event(f"{role}: record")
        assert_valid_record(item.document)
    for container in containers:
        assert_valid_record(container)


def in_folder(build: Callable[[Path], None], fuzzed: tuple[str, str], control: tuple[str, str], files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "backup"
        root.mkdir()
        build(root)
        replay(root, fuzzed, control, files)
