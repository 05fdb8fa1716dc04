"""The conformance suite against the `immich` sink, talking to the Immich sandbox in both API shapes."""

from __future__ import annotations

import base64
import hashlib

import pytest
from migrator_immich.sandbox import ImmichSandbox

from migrator.testing import SinkConformance, samples


class ImmichConformance(SinkConformance):
    sink = "immich"
    version = "3.1.0"

    @pytest.fixture
    def sink_options(self):
        with ImmichSandbox(version=self.version) as self.sb:
            yield {"url": self.sb.url, "api_key": self.sb.api_key, "backoff": 0.01}

    def count_copies(self, sink, document) -> int:
        """Assets holding the document's original (Immich dedups by content, so: by its checksum)."""
        data = samples.item(document.id, media=document.media).original.data  # the suite's bytes for this id
        checksum = base64.b64encode(hashlib.sha1(data, usedforsecurity=False).digest()).decode()
        return sum(a["checksum"] == checksum for a in self.sb.state()["assets"])

    def read_back(self, sink, stored) -> bytes:
        return self.sb.read_original(stored.ref)


class TestImmichV3(ImmichConformance):
    version = "3.1.0"


class TestImmichV2(ImmichConformance):
    version = "2.7.5"
