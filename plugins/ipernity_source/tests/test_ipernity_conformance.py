"""The conformance suite against the `ipernity` source, talking to the ipernity sandbox (20 documents)."""

from __future__ import annotations

import pytest
from migrator_ipernity.sandbox import IpernitySandbox, build_account

from migrator.testing import SourceConformance


class TestIpernitySource(SourceConformance):
    source = "ipernity"

    @pytest.fixture
    def source_options(self):
        with IpernitySandbox(seed=0, account=build_account(0, n_docs=20)) as sb:
            yield {"api_url": sb.api_url, "api_key": sb.api_key, "api_secret": sb.api_secret,
                   "auth_token": sb.grant_token(perm_doc="read")}
