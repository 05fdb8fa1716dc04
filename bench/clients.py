"""Sequential baseline clients: what flip and flickrmirrorer do, one request at a time, in Python.

They follow the call formulas of /work/shared/reference/seeds.md (§1.4 flip, §3.3 flickrmirrorer):
the same calls in the same order and the same downloads, written to disk like the originals do.
They run in the harness process against a sandbox in its own process (bench/sandboxes.py), on one
keep-alive connection each, like the Go and Python tools' default HTTP clients.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from migrator_ipernity.sandbox.signing import sign

CHUNK = 1 << 20


class IpernityClient:
    """Signed ipernity calls (POST, form-encoded, api_sig) counted by method."""

    def __init__(self, info: dict[str, Any], token: str):
        self.info, self.token = info, token
        self.session = requests.Session()
        self.calls: Counter[str] = Counter()
        self.downloads = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        signed = sign({"api_key": self.info["api_key"], "auth_token": self.token, **params}, method,
                      self.info["api_secret"])
        self.calls[method] += 1
        data = self.session.post(f"{self.info['api_url']}{method}/json", data=signed).json()
        if data.get("api", {}).get("status") != "ok":
            raise RuntimeError(f"{method}: {data.get('api')}")
        return data

    def download(self, url: str, path: Path, expected: int) -> None:
        """flip reads the whole body, checks its length against the listed size, writes the file."""
        body = self.session.get(url).content
        self.downloads += 1
        if len(body) != expected:
            raise RuntimeError(f"downloaded length {len(body)}, original length {expected}")
        path.write_bytes(body)


def flip(info: dict[str, Any], token: str, dest: Path) -> dict[str, Any]:
    """flip's full run (seeds.md §1.4): user.get, every doc.getList page (100 per page), then per
    document oldest first doc.get and doc.getContainers when it is in an album; then every download,
    its JSON and the position file.  Unlike flip it also takes the oldest document (no off-by-one)."""
    start = time.monotonic()
    client = IpernityClient(info, token)
    total = int(client.call("user.get")["user"]["count"]["docs"])
    listed: list[dict[str, Any]] = []
    for page in range(1, math.ceil(total / 100) + 1):
        listed.extend(client.call("doc.getList", per_page=100, page=page)["docs"]["doc"])
    docs = []
    for entry in reversed(listed):  # newest first on the wire, oldest first on disk
        doc = client.call("doc.get", doc_id=entry["doc_id"])["doc"]
        albums = []
        if str(doc["count"]["albums"]) != "0":
            containers = client.call("doc.getContainers", doc_id=entry["doc_id"])["albums"]
            albums = [a["title"] for a in containers.get("album") or []]
        docs.append((doc, albums))
    dest.mkdir(parents=True, exist_ok=True)
    for position, (doc, albums) in enumerate(docs, 1):
        original = doc["original"]
        client.download(original["url"], dest / f"{doc['doc_id']}.{original['ext']}", int(original["bytes"]))
        meta = {"docid": str(doc["doc_id"]), "originalurl": original["url"], "originalsize": int(original["bytes"]),
                "ext": original["ext"], "media": doc["media"], "title": doc["title"],
                "description": doc["description"], "date": doc["dates"]["created"], "albums": albums or None}
        (dest / f"{doc['doc_id']}.json").write_text(json.dumps(meta), "utf-8")
        (dest / "ipernity_last_doc").write_text(str(position))
    return {"wall": time.monotonic() - start, "calls": dict(client.calls), "downloads": client.downloads,
            "docs": len(docs)}


def ipernity_listing(info: dict[str, Any], token: str, calls: dict[str, int], list_extras: str) -> dict[str, Any]:
    """The listing of a no-change rerun alone, as its report counts it (`calls` by method): auth.checkToken,
    that many doc.getList pages and, when the rerun read albums, album.getList, album.get and
    album.docs.getList for every album.  Its wall time is what the listing itself costs."""
    start = time.monotonic()
    client = IpernityClient(info, token)
    user_id = client.call("auth.checkToken")["auth"]["user"]["user_id"]
    for page in range(1, calls.get("doc.getList", 1) + 1):
        client.call("doc.getList", user_id=user_id, per_page=100, page=page, extra=list_extras)
    if calls.get("album.getList"):
        answer = client.call("album.getList", user_id=user_id, per_page=100, page=1, empty=1)
        for album in answer["albums"].get("album") or []:
            client.call("album.get", album_id=album["album_id"])
            if str(album.get("count", {}).get("docs", "0")) != "0":
                client.call("album.docs.getList", album_id=album["album_id"], per_page=100, page=1)
    return {"wall": time.monotonic() - start, "calls": dict(client.calls)}


# ----------------------------------------------------------------------------------------------
# flickrmirrorer

MIRROR_EXTRAS = ("description,license,date_upload,date_taken,owner_name,icon_server,original_format,last_update,"
                 "geo,tags,machine_tags,o_dims,media,views")


def flickr_api(info: dict[str, Any], token: str, secret: str) -> Any:
    """A flickrapi client on the sandbox with an in-memory token, as flickrmirrorer uses it."""
    import flickrapi
    from flickrapi.auth import FlickrAccessToken

    access = FlickrAccessToken(token, secret, "read", "Sandbox User", "sandbox", info["nsid"])
    api = flickrapi.FlickrAPI(info["api_key"], info["api_secret"], token=access, format="parsed-json",
                              store_token=False)
    api.REST_URL, api.UPLOAD_URL, api.REPLACE_URL = info["rest"], info["upload"], info["replace"]
    oauth = api.flickr_oauth
    oauth.REQUEST_TOKEN_URL, oauth.AUTHORIZE_URL = info["request_token"], info["authorize"]
    oauth.ACCESS_TOKEN_URL = info["access_token"]
    return api


def flickrmirrorer(info: dict[str, Any], token: str, secret: str, dest: Path) -> dict[str, Any]:
    """flickrmirrorer's first mirror (seeds.md §3.3-3.7): checkToken, people.getPhotos pages of 500 with
    every file downloaded as it is listed (a HEAD with redirects on play/orig per video, then GET),
    photosets.getList, photosets.getPhotos per set, getNotInSet until an empty page, collections.getTree."""
    start = time.monotonic()
    api = flickr_api(info, token, secret)
    calls: Counter[str] = Counter()
    files: Counter[str] = Counter()
    session = requests.Session()

    def rest(method: str, **params: Any) -> dict[str, Any]:
        calls[method] += 1
        return _dotted(api, method)(**params)

    rest("flickr.auth.oauth.checkToken", oauth_token=token)
    stream = dest / "photostream"
    stream.mkdir(parents=True)
    page, pages = 1, 1
    while True:
        block = rest("flickr.people.getPhotos", user_id="me", extras=MIRROR_EXTRAS, per_page=500, page=page)["photos"]
        pages = int(block["pages"])
        for photo in block["photo"]:
            _mirror_file(session, files, info, photo, stream)
        if page >= pages:
            break
        page += 1
    albums = dest / "Albums"
    albums.mkdir()
    for photoset in rest("flickr.photosets.getList")["photosets"]["photoset"]:
        members: list[str] = []
        for p in range(1, math.ceil(int(photoset["photos"]) / 500) + 1):
            got = rest("flickr.photosets.getPhotos", photoset_id=photoset["id"], extras="original_format,media",
                       per_page=500, page=p)
            members.extend(item["id"] for item in got["photoset"]["photo"])
        folder = albums / f"{photoset['title']['_content'].replace('/', '%2F')} - {photoset['id']}"
        folder.mkdir()
        (folder / "metadata").write_text(json.dumps({**photoset, "photos": members}), "utf-8")
    page = 1
    while True:  # flickrmirrorer stops on an empty page: one call past the last (Flickr answers empty there)
        got = rest("flickr.photos.getNotInSet", extras="original_format,media", per_page=500, page=page)["photos"]
        if not got["photo"] or page > int(got["pages"]):
            break
        page += 1
    rest("flickr.collections.getTree")
    return {"wall": time.monotonic() - start, "calls": dict(calls), "rest_calls": sum(calls.values()),
            "file_requests": dict(files)}


def _dotted(api: Any, method: str) -> Any:
    target = api
    for part in method.removeprefix("flickr.").split("."):
        target = getattr(target, part)
    return target


def _mirror_file(session: requests.Session, files: Counter[str], info: dict[str, Any], photo: dict[str, Any],
                 stream: Path) -> None:
    base = info["base_url"]
    if photo.get("media") == "video":  # the "video download trick": HEAD play/orig, follow to the CDN file
        head = session.head(f"{base}/photos/{info['nsid']}/{photo['id']}/play/orig/{photo['originalsecret']}/",
                            allow_redirects=True)
        files["HEAD"] += 1 + len(head.history)
        url = head.url
    else:
        url = f"{base}/{photo['server']}/{photo['id']}_{photo['originalsecret']}_o.{photo['originalformat']}"
    name = url.rsplit("/", 1)[-1]
    tmp = stream.parent / "tmp"
    with session.get(url, stream=True) as answer:
        files["GET"] += 1
        answer.raise_for_status()
        with open(tmp, "wb") as out:
            for chunk in answer.iter_content(CHUNK):
                out.write(chunk)
    os.replace(tmp, stream / name)
    (stream / f"{name}.metadata").write_text(json.dumps(photo), "utf-8")
