"""The conformance suite every migrator sink and source passes (like rclone's fstests for backends).

A plugin's test module subclasses one class per plugin and says how to configure it::

    import pytest
    from migrator.testing import SinkConformance

    class TestMySink(SinkConformance):
        sink = "mysink"                       # registered name (or the Sink class)

        @pytest.fixture
        def sink_options(self, tmp_path):     # option values; may start a sandbox and `yield` them
            return {"path": tmp_path / "out"}

`SourceConformance` is the same with `source` and `source_options`. The suite drives the plugin in
process through the calls the run loop makes (options resolved, a `Context`, open(), account(),
context.bind(state, account, chain), store()/store_container()/finish()/close(), entries() and load()),
against a real `StateStore` in tmp_path, through `Harness`. A check a plugin knowingly fails goes in
`xfail = {"test_name": "reason"}` (strict: it must fail until fixed). pytest and (optionally)
jsonschema are needed: `pip install 'migrator[test]'`.

Beyond "stores a document whole", the sink suite checks that the same record stored again says
"unchanged", that a same-size rewrite replaces the copy and its sha256, that a failed stream leaves no
file behind, that the ids of `HOSTILE_IDS` stay apart and are found again, and that after a lost state
(an empty state store, the same target) nothing is created twice. The source suite checks the id rule
(`migrator.records.check_id`), that ids are stable between listings and, with the `rewrite_original`
hook, that a rewritten file changes the entry and the record.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("migrator.testing.base", "migrator.testing.sink", "migrator.testing.source")

from .harness import Harness, error_text, plugin_class  # noqa: E402
from .samples import HOSTILE_IDS, HOSTILE_TEXT, TrackedOriginal, document, item, jpeg, mp4  # noqa: E402
from .sink import SinkConformance  # noqa: E402
from .source import SourceConformance, assert_valid_record  # noqa: E402

__all__ = [
    "HOSTILE_IDS", "HOSTILE_TEXT", "Harness", "SinkConformance", "SourceConformance", "TrackedOriginal",
    "assert_valid_record", "document", "error_text", "item", "jpeg", "mp4", "plugin_class",
]
