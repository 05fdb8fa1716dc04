"""Conventions users bring from rclone and gallery-dl, through the real `migrator` command: -h on every
command, authorization refused is exit 3 with the next step, path errors that name the cause,
`migrator plugins` with each option's environment variables, and `migrator config` (never a secret)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from migrator.state import StateStore
from migrator.tokens import load_token

pytest.importorskip("migrator_local")
pytest.importorskip("migrator_ipernity")
pytest.importorskip("migrator_flickr")

from migrator_flickr.sandbox import FlickrSandbox  # noqa: E402
from migrator_ipernity.sandbox import IpernitySandbox  # noqa: E402

from migrator.testing.cli import query_value  # noqa: E402

ALL = {"MIGRATOR_LOAD_PLUGINS": "memtest,ipernity,local,flickr"}


# -- -h ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [[], ["run"], ["plugins"], ["auth"], ["status"], ["config"], ["config", "show"],
                                     ["config", "file"], ["memtest-hello"]])
def test_dash_h_is_help_on_every_command_plugins_ones_too(cli, command):
    short, long = cli(*command, "-h", env=ALL), cli(*command, "--help", env=ALL)
    assert short.returncode == 0, short.stderr
    usage = short.stdout.splitlines()[0]  # `python -m migrator ...` here, `migrator ...` when installed
    assert usage.startswith("Usage: ") and f"migrator {' '.join(command)}".rstrip() + " [OPTIONS]" in usage
    assert short.stdout == long.stdout and "-h, --help" in short.stdout


# -- authorization refused ----------------------------------------------------------------------------
def test_ipernity_access_not_approved_is_exit_3_with_the_next_step(cli, home):
    with IpernitySandbox(seed=0) as ip:
        for refuse in (lambda frob: None, ip.deny):  # Enter without approving; or "deny" clicked first
            proc, line = cli.start("auth", "ipernity", *ip.app_options(), wait_for="frob=", env=ALL)
            refuse(query_value(line, "frob"))
            out, err = proc.communicate("\n", timeout=60)
            assert proc.returncode == 3, err
            assert err.strip() == "error: ipernity: access was not approved; run `migrator auth ipernity` again"
            assert "frob" not in err and load_token("ipernity", home / "config") is None


def test_flickr_enter_without_a_code_is_exit_3_with_the_next_step(cli, home):
    with FlickrSandbox() as fl:
        proc, _ = cli.start("auth", "flickr", *fl.app_options(), wait_for="oauth_token=", env=ALL)
        out, err = proc.communicate("\n", timeout=60)
    assert proc.returncode == 3, err
    assert "access was not approved; run `migrator auth flickr` again" in err
    assert load_token("flickr", home / "config") is None


# -- path errors ------------------------------------------------------------------------------------
def test_local_paths_say_what_is_wrong(cli, home):
    missing, a_file = home / "nowhere", home / "a-file"
    a_file.write_text("not a folder")
    cases = [
        (["local", "local", "-o", f"local.source.path={missing}", "-o", f"local.sink.path={home / 'copy'}"],
         f"local.path {missing} does not exist"),
        (["local", "local", "-o", f"local.source.path={a_file}", "-o", f"local.sink.path={home / 'copy'}"],
         f"local.path {a_file} is a file, not a folder"),
        (["ipernity", "local", "--sandbox", "-o", f"local.path={a_file}"],
         f"local.path {a_file} is a file, not a folder"),
        (["ipernity", "local", "--sandbox", "-o", f"local.path={a_file / 'backup'}"],
         f"local.path {a_file / 'backup'} cannot be created: {a_file} is a file, not a folder"),
    ]
    for args, message in cases:
        result = cli("run", *args, "--state", str(home / "state.sqlite3"), env=ALL)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"error: {message}") and len(result.stderr.splitlines()) == 1
    assert not (home / "copy").exists()


def test_state_paths_say_what_is_wrong_and_a_damaged_store_still_says_move_it_aside(cli, home):
    a_file = home / "a-file"
    a_file.write_text("not a folder")
    result = cli("run", "ipernity", "local", "--sandbox", "--state", str(a_file / "state.sqlite3"), env=ALL)
    assert result.returncode == 2
    assert f"state store {a_file / 'state.sqlite3'} cannot be written: its folder {a_file} is a file, not a " \
           "folder; pass --state FILE with a file in a writable folder" in result.stderr
    result = cli("run", "ipernity", "local", "--sandbox", "--state", str(a_file / "sub" / "state.sqlite3"), env=ALL)
    assert result.returncode == 2 and f"cannot be created: {a_file} is a file, not a folder" in result.stderr
    damaged = home / "damaged.sqlite3"
    damaged.write_bytes(b"this is no database" * 100)
    result = cli("status", "--state", str(damaged))
    assert result.returncode == 2 and "move it aside or pass --state FILE" in result.stderr


@pytest.fixture
def read_only(home: Path) -> Iterator[tuple[Path, callable]]:
    """A folder, and a function that makes it read-only: a read-only tmpfs for root (whom permissions do
    not stop), mode 0555 for anyone else; skipped where neither works."""
    folder = home / "ro"
    folder.mkdir()
    mounted = False
    if os.geteuid() == 0:
        if shutil.which("mount") is None or _quiet(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)]):
            pytest.skip("root without mounts: no way to make a folder read-only")
        mounted = True

    def freeze() -> None:
        if mounted:
            assert _quiet(["mount", "-o", "remount,ro", str(folder)]) == 0
        else:
            for path in [folder, *folder.rglob("*")]:
                if path.is_dir():
                    path.chmod(0o555)
        assert not os.access(folder, os.W_OK)

    try:
        yield folder, freeze
    finally:
        if mounted:
            _quiet(["umount", "-l", str(folder)])
        else:
            for path in [folder, *folder.rglob("*")]:
                if path.is_dir():
                    path.chmod(0o755)


def _quiet(command: list[str]) -> int:
    return subprocess.run(command, capture_output=True, timeout=30).returncode


def test_read_only_folders_are_named_as_such_and_a_read_only_backup_is_still_read(cli, home, read_only):
    folder, freeze = read_only
    state = folder / "state.sqlite3"
    StateStore(state).close()
    backup = folder / "backup"
    assert cli("run", "ipernity", "local", "--sandbox", "-q", "-o", f"local.path={backup}", "--state",
               str(home / "first.sqlite3"), env=ALL).returncode == 0
    freeze()
    result = cli("run", "ipernity", "local", "--sandbox", "--state", str(state), env=ALL)
    assert result.returncode == 2
    assert f"state store {state} cannot be written: its folder {folder} is not writable" in result.stderr
    assert "move it aside" not in result.stderr and "pass --state with the copy" in result.stderr
    result = cli("run", "ipernity", "local", "--sandbox", "-o", f"local.path={backup}", env=ALL)
    assert result.returncode == 2 and f"local.path {backup} is not writable" in result.stderr
    result = cli("run", "ipernity", "local", "--sandbox", "-o", f"local.path={folder / 'new'}", env=ALL)
    assert result.returncode == 2
    assert f"local.path {folder / 'new'} cannot be created: {folder} is not writable" in result.stderr
    # reading a backup on a read-only disk works (its index, a cache, is left aside)
    result = cli("run", "local", "local", "-q", "-o", f"local.source.path={backup}", "-o",
                 f"local.sink.path={home / 'copy'}", "--state", str(home / "copy.sqlite3"), env=ALL)
    assert result.returncode == 0, result.stderr
    assert len(list((home / "copy").rglob("*].json"))) == len(list(backup.rglob("*].json"))) > 0


# -- migrator plugins -------------------------------------------------------------------------------
def test_plugins_plain_names_types_choices_and_environment_variables(cli):
    result = cli("plugins", env=ALL)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "    local.path (Path, required) the backup folder [env: MIGRATOR_LOCAL_PATH]" in lines
    assert "    ipernity.api_key (str, secret, no default) ipernity API key [env: MIGRATOR_IPERNITY_API_KEY, " \
           "IPERNITY_API_KEY]" in lines
    comments = next(line for line in lines if line.startswith("    flickr.comments "))
    assert "(str, one of off|keep|description, default 'keep')" in comments
    assert all(f"{value}: " in comments for value in ("off", "keep", "description"))
    assert comments.endswith("[env: MIGRATOR_FLICKR_COMMENTS]")
    entries = {(e["name"], e["kind"]): e for e in json.loads(cli("plugins", "--json", env=ALL).stdout)}
    api_key = next(o for o in entries[("ipernity", "source")]["options"] if o["name"] == "api_key")
    assert api_key["environment"] == ["MIGRATOR_IPERNITY_API_KEY", "IPERNITY_API_KEY"]


# -- migrator config --------------------------------------------------------------------------------
def test_config_file_prints_the_path_and_says_when_it_does_not_exist(cli, home):
    result = cli("config", "file")
    assert result.returncode == 0 and result.stdout == f"{home / 'config' / 'config.toml'}\n"
    assert "does not exist" in result.stderr
    (home / "config").mkdir()
    (home / "config" / "config.toml").write_text("")
    result = cli("config", "file")
    assert result.stdout == f"{home / 'config' / 'config.toml'}\n" and result.stderr == ""


def test_config_shows_each_value_with_its_source(cli, home):
    (home / "config").mkdir()
    (home / "config" / "config.toml").write_text('[local]\npath = "/from/file"\n[flickr.sink]\nprivacy = "private"\n'
                                                 '[ipernity]\ntimeout = 30\nstartdoc = 4\n')
    result = cli("config", "-o", "ipernity.startdoc=7", "-o", "local.source.path=/from/o", env={
        **ALL, "MIGRATOR_IPERNITY_TIMEOUT": "12.5", "IPERNITY_API_URL": "http://127.0.0.1:9/api/"})
    assert result.returncode == 0, result.stderr
    rows = {" ".join(line.split()) for line in result.stdout.splitlines()}
    assert f"config file: {home / 'config' / 'config.toml'}" in rows
    assert {"startdoc 7 from -o", "timeout 12.5 from $MIGRATOR_IPERNITY_TIMEOUT",
            'api_url "http://127.0.0.1:9/api/" from $IPERNITY_API_URL', "numdocs 0 from default",
            'sink.path "/from/file" from config file', 'source.path "/from/o" from -o, source only',
            'sink.privacy "private" from config file, sink only', "sink.xmp true from default",
            "api_key (not set)"} <= rows
    shown = json.loads(cli("config", "show", "local", "--json", env=ALL).stdout)
    assert shown["exists"] is True and {row["plugin"] for row in shown["options"]} == {"local"}
    path = next(row for row in shown["options"] if row["key"] == "path")
    assert (path["value"], path["from"], path["role"]) == ("/from/file", "config file", None)


def test_config_reports_a_bad_value_like_run_does(cli):
    result = cli("config", "ipernity", "-o", "ipernity.numdocs=many", env=ALL)
    assert result.returncode == 2
    assert "error: option ipernity.numdocs (from -o): 'many' is not a valid int" in result.stdout
    result = cli("config", "nosuchplugin", env=ALL)
    assert result.returncode == 2 and "no plugin named 'nosuchplugin'" in result.stderr


def test_no_secret_value_ever_appears_in_config_output(cli, home):
    """Every secret option of every installed plugin, set each way a user can set it: only *** shows."""
    entries = json.loads(cli("plugins", "--json", env=ALL).stdout)
    secrets = {(e["name"], o["name"]): o for e in entries for o in e["options"] if o["secret"]}
    assert len(secrets) >= 7  # ipernity: key, secret, token; flickr: key, secret, token, token secret; memtest
    values = {(name, key): f"s3cr3t-{name}-{key}-Zq9" for name, key in secrets}
    (home / "config").mkdir()
    tables: dict[str, str] = {}
    for (name, key), value in values.items():
        tables[name] = tables.get(name, f"[{name}]\n") + f'{key} = "{value}-file"\n'
    (home / "config" / "config.toml").write_text("".join(tables.values()))
    aliases = {o["environment"][-1]: f"{values[k]}-alias" for k, o in secrets.items()}
    main_env = {o["environment"][0]: f"{values[k]}-env" for k, o in secrets.items()}
    overrides = [arg for (name, key), value in values.items() for arg in ("-o", f"{name}.{key}={value}-o")]
    runs = [cli("config", env=ALL), cli("config", "--json", env=ALL), cli("config", env={**ALL, **aliases}),
            cli("config", "show", "--json", env={**ALL, **main_env}), cli("config", *overrides, env=ALL),
            cli("config", *overrides, "-o", "ipernity.timeout=never", env={**ALL, **main_env})]
    for result in runs:
        assert result.returncode in (0, 2), result.stderr
        assert "***" in result.stdout
        assert "s3cr3t" not in result.stdout + result.stderr
