"""Flickr sandbox: a faithful Flickr API emulator on the loopback interface.

It lets ``migrator ... --sandbox`` (and the test-suite) run a whole Flickr job
without an account: OAuth 1.0a (HMAC-SHA1) with the out-of-band and callback
flows, the REST API in ``rest`` (XML) and ``json`` formats, the upload and
replace endpoints (multipart, streamed to disk), async upload tickets, and a
file host for originals and derived sizes.  Knobs inject the trouble real
Flickr causes: latency, 429 with ``Retry-After``, 5xx, bursts, dropped
connections, search-index lag, short pages, 403 on originals, videos without
"Video Original", free-account limits, date/geo refusals; and the failures
exactly-once code must survive: ``knobs.lose_answer(method, n, how)`` carries a
call out, then loses its answer (HTTP 5xx, ``"reset"``, ``"hang"`` for
``hang_seconds``, ``"truncate"``); ``knobs.outage(status, from_method)`` fails
every request from a method's first call on until ``knobs.end_outage()``.
``sb.lost_answers`` lists the answers lost, ``sb.signatures`` every
``oauth_signature`` received; ``sb.calls`` counts REST calls by API method,
``sb.file_requests`` lists every file request as (HTTP method, path, status)
and ``sb.file_methods`` counts them by HTTP method (GET, HEAD).

Usage::

    from migrator_flickr.sandbox import FlickrSandbox, build_seeded_account

    with FlickrSandbox(seed=0) as sb:                 # empty account, user "sandbox"
        flickr = sb.flickrapi_client("write")        # flickrapi.FlickrAPI, token in memory only
        flickr.test.login()
        sb.cli_options()                              # ["-o", "flickr.api_key=...", ...] for `migrator run`

    sb = FlickrSandbox(account=build_seeded_account(0)).start()   # an existing account to mirror
    ...
    sb.stop()

    # an account that outlives the process (what `migrator run --sandbox` uses): every write call is
    # journaled before it is answered, so a restart after a kill serves at least what was answered
    FlickrSandbox(storage_dir="dir/files", save_file="dir/flickr.sandbox")

URL layout (``PORT`` random unless given)::

    http://127.0.0.1:PORT/services/rest/                   REST (POST form or GET query)
    http://127.0.0.1:PORT/services/upload/                 upload (multipart, XML answer only)
    http://127.0.0.1:PORT/services/replace/                replace
    http://127.0.0.1:PORT/services/oauth/request_token     OAuth
    http://127.0.0.1:PORT/services/oauth/authorize         HTML page (form POST -> verifier / redirect)
    http://127.0.0.1:PORT/services/oauth/access_token      OAuth
    http://127.0.0.1:PORT/{server}/{id}_{secret}[_x].jpg   derived sizes, originals at _o.{format}
    http://127.0.0.1:PORT/photos/{nsid}/{id}/play/orig/{originalsecret}/   video original (302 to /video/...)

Point a ``flickrapi.FlickrAPI`` instance at it by setting ``REST_URL``,
``UPLOAD_URL``, ``REPLACE_URL`` on the instance and ``REQUEST_TOKEN_URL``,
``AUTHORIZE_URL``, ``ACCESS_TOKEN_URL`` on its ``flickr_oauth``
(:meth:`FlickrSandbox.configure_flickrapi` does exactly that).

Standalone::

    python -m migrator_flickr.sandbox [--host H] [--port N] [--seed N] [--seeded] [--photos N]
                                      [--knob NAME=JSON ...]

prints the URLs, the API key and secret and a ready write token pair, then
serves until interrupted.
"""

from .knobs import KNOB_DEFAULTS, Knobs
from .model import Account, Collection, Comment, Photo, Photoset, User, build_seeded_account
from .server import FlickrSandbox

__all__ = [
    "KNOB_DEFAULTS",
    "Account",
    "Collection",
    "Comment",
    "FlickrSandbox",
    "Knobs",
    "Photo",
    "Photoset",
    "User",
    "build_seeded_account",
]
