"""README's "First try, step by step" works as written: its commands, run in order exactly as they stand
there, against the kept sandbox folder; Ctrl-C is typed on a real terminal where step 2 says so."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # tests/ is no package: for the helpers beside this file
from terminal import Terminal  # noqa: E402

README = Path(__file__).parent.parent / "README.md"


def steps() -> list[tuple[list[str], str]]:
    """(arguments after `migrator`, the comment) of each line between the first-try markers."""
    text = README.read_text("utf-8")
    block = text.split("<!-- first-try:start -->", 1)[1].split("<!-- first-try:end -->", 1)[0]
    lines = [line for line in block.splitlines() if line.startswith("migrator ")]
    out = []
    for line in lines:
        words = shlex.split(line, comments=True)
        out.append((words[1:], line.split("#", 1)[1].strip()))
    return out


def test_readme_first_try_runs_as_written(cli, home):
    env = {"MIGRATOR_LOAD_PLUGINS": "ipernity,local,flickr"}
    seen: dict[int, str] = {}
    walkthrough = steps()
    assert [c.split(".")[0] for _, c in walkthrough] == [str(n) for n in range(1, len(walkthrough) + 1)]
    for number, (args, comment) in enumerate(walkthrough, 1):
        if "Ctrl-C" in comment:
            term = Terminal(cli, *args, env=env)
            term.wait_for("/150]")  # the live line has started
            term.type(b"\x03")
            code = term.finish()
            assert code == 130, term.text
            seen[number] = term.text
            continue
        result = cli(*args, env=env, timeout=300)
        assert result.returncode == 0, (args, result.stderr)
        seen[number] = result.stdout + result.stderr
    dry, stopped, resumed, status, edited, refreshed, reset = (seen[n] for n in range(1, 8))
    assert "150 listed" in dry and "loss ledger" in dry  # the loss ledger ends the dry run
    assert "interrupted: progress is saved; run the same command again to resume" in stopped
    assert "Traceback" not in stopped
    left = int(re.search(r"local: (\d+) new", resumed).group(1))
    assert 0 < left < 150, resumed  # the rerun did only what the interrupted run left
    assert "· 17 albums" in resumed
    assert "flickr:" in resumed and "13 skipped" in resumed and "16 sets" in resumed
    assert "done" in status and "skipped for good" in status
    assert "Quiet chapel at dawn" in edited
    assert "1 updated" in refreshed and "Quiet chapel at dawn" in refreshed
    assert "deleted" in reset.lower() or "reset" in reset.lower()
    sidecars = list((home / "xdg_cache_home" / "migrator" / "sandbox").rglob("*.json"))
    assert not sidecars  # the reset left nothing behind
