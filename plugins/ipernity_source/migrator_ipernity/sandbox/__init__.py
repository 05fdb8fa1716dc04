"""ipernity sandbox: a local, faithful emulation of the ipernity REST API.

It lets people try migrator without an ipernity account (``migrator ... --sandbox``)
and gives the test-suite a realistic server.  Standard library only.

Python use::

    from migrator_ipernity.sandbox import IpernitySandbox, build_account

    with IpernitySandbox(seed=0) as sb:       # random free port on 127.0.0.1
        sb.api_url                            # "http://127.0.0.1:PORT/api/"
        sb.auth_url                           # "http://127.0.0.1:PORT/apps/authorize"
        sb.api_key, sb.api_secret             # the registered sandbox application
        token = sb.grant_token(perm_doc="read")
        sb.knobs.fault_rate = 0.1             # inject faults at run time
        sb.account.doc("1234567").title       # ground truth
        sb.cli_options()                      # ["-o", "ipernity.api_url=...", ...] for `migrator run`

    IpernitySandbox(save_file="dir/ipernity.sandbox")  # account edits, frobs and tokens saved as made

Command line (runs in the foreground until Ctrl-C)::

    python -m migrator_ipernity.sandbox [--port N] [--seed N] [--host H] [--perm read]

prints the API URL, the authorize URL, the API key and secret, and a ready token
(with ``perm_doc=read``) for the sandbox account.  The key, secret and printed token
depend only on the seed, so they stay valid across restarts with the same seed.

Behaviour follows the ipernity reference (signing, JSON quirks, error codes, paging,
visibility); where the reference only guesses, the choices are documented in
:mod:`.api` and :mod:`.server`.  In particular ``doc.getList`` lists the newest
document first.
"""

from .account import (
    HOSTILE_ALBUM_TITLES,
    HOSTILE_FILENAMES,
    HOSTILE_TITLES,
    Account,
    Album,
    Comment,
    Doc,
    Folder,
    Note,
    Original,
    User,
    build_account,
)
from .knobs import Knobs
from .render import ApiError
from .server import IpernitySandbox
from .signing import api_sig

__all__ = [
    "HOSTILE_ALBUM_TITLES",
    "HOSTILE_FILENAMES",
    "HOSTILE_TITLES",
    "Account",
    "Album",
    "ApiError",
    "Comment",
    "Doc",
    "Folder",
    "IpernitySandbox",
    "Knobs",
    "Note",
    "Original",
    "User",
    "api_sig",
    "build_account",
]
