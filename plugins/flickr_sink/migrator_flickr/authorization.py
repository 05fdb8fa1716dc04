"""`migrator auth flickr`: the OAuth 1.0a out-of-band flow, the write token saved privately."""

from __future__ import annotations

import sys
from typing import Any

import click

from migrator.errors import AuthorizationNeeded
from migrator.tokens import save_token

from .client import FlickrClient, build_api, require_keys, token_place


def authorize(config: dict[str, Any], context: Any) -> None:
    require_keys(config)
    api = build_api(config["api_key"], config["api_secret"], config["rest_url"], config["upload_url"],
                    config["oauth_url"])
    api.get_request_token(oauth_callback="oob")
    click.echo("1. Open this address in a browser, sign in to Flickr and allow write access:")
    click.echo(f"   {api.auth_url(perms='write')}")
    click.echo("2. Type the code Flickr shows, then Enter:")
    verifier = sys.stdin.readline().strip()
    if not verifier:
        raise AuthorizationNeeded("no code given: access was not approved; run `migrator auth flickr` again")
    try:
        api.get_access_token(verifier)
    except Exception as exc:  # flickrapi reports a refused code as a plain FlickrError
        raise AuthorizationNeeded(f"Flickr did not accept the code ({type(exc).__name__}); "
                                  "run `migrator auth flickr` again") from None
    token = api.token_cache.token
    saved = {"oauth_token": token.token, "oauth_token_secret": token.token_secret, "perms": token.access_level,
             "username": token.username, "user_nsid": token.user_nsid, "fullname": token.fullname}
    client = FlickrClient(build_api(config["api_key"], config["api_secret"], config["rest_url"],
                                    config["upload_url"], config["oauth_url"], token), rate=0)
    client.call("flickr.test.login")
    place = token_place(config)
    path = save_token("flickr", saved, context.config_dir, endpoint=place["endpoint"], key=place["key"])
    click.echo(f"Authorized as {token.username}; token saved in {path} (readable only by you).")
