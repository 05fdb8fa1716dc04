"""Fixtures for the Immich plugin's tests: a sandbox per test, in either API shape."""

from __future__ import annotations

import pytest
from migrator_immich.sandbox import ImmichSandbox

V2, V3 = "2.7.5", "3.1.0"


@pytest.fixture(params=[V3, V2], ids=["v3", "v2"])
def sb(request):
    with ImmichSandbox(version=request.param) as sandbox:
        yield sandbox
