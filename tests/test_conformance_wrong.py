"""The conformance suite fails each deliberately wrong plugin of tests/wrong_plugins.py, with a message that says
what is wrong, and passes their correct baselines (so each check fails only what it should)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
TESTS = Path(__file__).parent

# checks class -> (the checks that must fail, a phrase the failure message holds)
WRONG = {
    "AlwaysNewChecks": ({"test_same_record_again_is_unchanged", "test_hostile_ids",
                         "test_lost_state_finds_what_it_stored"},
                        "said 'new' for conformance:same-1, which it already holds with the same record and bytes"),
    "StaleHashChecks": ({"test_same_size_rewrite_replaces_the_copy"},
                        "reported the old sha256"),
    "PartialFileChecks": ({"test_failed_stream_leaves_nothing"},
                          "holding part of the original of conformance:leftover-short after its stream failed"),
    "MangledIdChecks": ({"test_hostile_ids"},
                        "under the same ref 'conformance-a_b': distinct ids must stay distinct"),
    "DuplicatingRemoteChecks": ({"test_lost_state_finds_what_it_stored", "test_hostile_ids"},
                                "after a lost state (the same target, an empty state store) goodfolder stored "
                                "conformance:lost-1 under a new ref"),
    "UnstableIdChecks": ({"test_ids_stable_between_listings", "test_record_changes_with_its_file"},
                         "listed other ids the second time, the account unchanged"),
    "NoHashChecks": ({"test_record_changes_with_its_file"},
                     "gave the same record for folder:2019/beach.jpg after its file was rewritten"),
}


def run_checks(pytester: pytest.Pytester, checks: str) -> tuple[set[str], str, int]:
    """Run one checks class of wrong_plugins as a plugin's own test module: (failed checks, their messages,
    checks passed)."""
    pytester.makepyfile(test_plugin=f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n"
                                    f"from wrong_plugins import {checks} as TestPlugin  # noqa: F401\n")
    recorded = pytester.inline_run("-p", "no:cacheprovider", "-q")
    failures = recorded.getfailures()
    names = {report.nodeid.split("::")[-1].split("[")[0] for report in failures}
    passed = len(recorded.listoutcomes()[0])
    return names, "\n".join(report.longreprtext for report in failures), passed


@pytest.mark.parametrize("checks", sorted(WRONG))
def test_suite_fails_the_wrong_plugin(pytester: pytest.Pytester, checks: str) -> None:
    failing, phrase = WRONG[checks]
    failed, messages, _ = run_checks(pytester, checks)
    assert failed == failing, messages
    assert phrase in messages, messages


@pytest.mark.parametrize("checks", ["FolderSinkChecks", "FolderSourceChecks"])
def test_suite_passes_the_correct_baseline(pytester: pytest.Pytester, checks: str) -> None:
    failed, messages, passed = run_checks(pytester, checks)
    assert not failed, messages
    assert passed > 5
