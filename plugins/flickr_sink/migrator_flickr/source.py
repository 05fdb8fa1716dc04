"""The `flickr` source: a mirror of the authorized Flickr account (replaces flickrmirrorer).

Call plan for an account of N photos (V of them videos, C with comments) in S sets: flickr.test.login and
people.getUploadStatus (is the account Pro?); people.getPhotos, ceil(N/500) pages with every extra the record and
the change check need; photosets.getList + photosets.getPhotos per set (album order and each photo's places);
collections.getTree, once. A short page is asked again and the answers are merged (Flickr sometimes drops items from
a page). Then, only for new or changed photos: photos.comments.getList where the listing's count_comments says there
are comments, photos.getSizes for videos (their "Video Original") and for photos whose original is refused. So a
first mirror costs the listing + C + V calls, and a run that finds nothing new 2 + ceil(N/500) + 1 + S + 1.

The record is built from the listing item: title, description, dates (taken with its granularity), visibility,
license, geo, media, tags, views, comments. It lacks what only photos.getInfo tells: tags as the user spelled
them (the listing gives Flickr's normalised form: `new york` → `newyork`, lower case), notes, the safety
level (1, "safe", for every photo) and the rotation (0). `flickr.details=true` adds photos.getInfo for each
loaded photo (one more call per photo) and records those too; switching it changes the change marker, so
every photo is read once again.

Originals: one GET per file, made while the photo is loaded, so its answer decides what the record says: a 200
gives the file's size, type and extension from its headers, and that open answer is handed to the sink as the
first stream of the Original (a later open, after a cut, GETs again). An answer the sink never reads (it has
that file already: an adopted mirror, a metadata change) is closed unread when the Item is dropped, so no more
than the network buffered is transferred; a HEAD would have cost the same one request. The Item holds that
open answer from load until the sink stores it. When the original is refused (no "Video Original", HTTP
403/404), the largest other rendition is fetched instead (getSizes, then a GET per candidate) and flagged:
`source_metadata["fallback"]`, a warning in the run report, and the photo is looked at again on every later run
until its original comes through.

Free accounts: since 2025-05-15 Flickr's API gives a free account no original and no size above 1024 px, not even
of its own photos. `open` asks people.getUploadStatus (one call) whether the account is Pro; a free one is said
once, with the way to the originals (Flickr's data export, read by the `local` source), and each photo's largest
allowed size is fetched straight from the listing's url_* extras (videos: getSizes, as always), with no try at
the original, flagged as a fallback but not warned about one by one nor retried while the account stays free.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlparse

from migrator import AlbumRef, Container, Entry, FileInfo, Item, Option, Original, Source
from migrator.errors import DocumentError, ServiceStopped
from migrator.http import RETRY_STATUSES, Download, ResponseStream, http_trouble, new_session, retrying
from migrator.service import Page, read_pages

from . import mapping as fr
from . import sandboxed
from .client import FlickrCallError, connect, request_timeout
from .options import COMMENTS_OFF, SHARED_OPTIONS

if TYPE_CHECKING:
    import requests

LIST_EXTRAS = ("description,license,date_upload,date_taken,last_update,geo,tags,machine_tags,original_format,"
               "media,url_o,o_dims,views,count_comments")
PAGE_TRIES = 4  # calls per listing page at most, when Flickr keeps answering it short
PROBES = 3  # fallback renditions tried per photo at most
LEVELS = ("read", "write", "delete")
FREE_MAX_EDGE = 1024  # px: the longest edge Flickr's API serves a free account since 2025-05-15
FREE_REASON = "a free Flickr account gets no original through the API (since 2025-05-15)"
FREE_NOTICE = (
    "free Flickr account: since 2025-05-15 Flickr's API gives free accounts no original and no size above "
    f"{FREE_MAX_EDGE} px, not even of their own photos. This run saves each photo's largest allowed size instead, "
    "flagged as a fallback in its record (source_metadata \"fallback\"); an original already in the backup is kept. "
    "To get your originals, use Flickr's data export: on flickr.com open You → Settings → \"Your Flickr Data\" → "
    "\"Request my Flickr Data\"; when Flickr emails you, download every ZIP file from that page into one folder; then "
    "run `migrator run local local -o local.source.path=<that folder> -o local.sink.path=<your backup folder>` "
    "(the ZIPs need no unpacking)")
DETAILS_MARK = "/details"  # ends the change marker of photos read with photos.getInfo (flickr.details)


@dataclass
class Listed:
    """One photo of the photostream listing, with what the run needs before deciding to load it."""

    raw: dict[str, Any]
    photo_id: str
    position: int
    marker: str


@dataclass
class Fetched:
    """A file the host is serving: its GET answered 200; the body is not read yet."""

    url: str
    label: str
    response: requests.Response
    size: int | None
    content_type: str | None
    ext: str | None


class FirstAnswer:
    """The opener of an Original whose first GET was made while loading: that answer is handed out once,
    later opens (a retry after a cut) GET again through `download`."""

    def __init__(self, first: ResponseStream, download: Download) -> None:
        self._first: ResponseStream | None = first
        self._download = download
        self._lock = threading.Lock()

    def _take(self) -> ResponseStream | None:
        with self._lock:
            first, self._first = self._first, None
        return first

    def __call__(self) -> IO[bytes]:
        first = self._take()
        return first if first is not None else self._download()  # type: ignore[return-value]

    def close(self) -> None:
        """Drop the first answer if nobody read it (the sink kept its copy, or the record was unchanged)."""
        first = self._take()
        if first is not None:
            first.close()


class FlickrSource(Source):
    name = "flickr"
    description = "mirror of the authorized Flickr account: photos, videos, sets, collections (replaces flickrmirrorer)"
    options = [
        *SHARED_OPTIONS,
        Option("details", bool, False,
               "also call photos.getInfo for each new or changed photo (one more API call per photo) to record "
               "its tags as spelled (multi-word, upper case), its notes and its safety level; without it tags "
               "are Flickr's normalised forms, notes are empty and safety is 1. Changing it reads every photo "
               "once again"),
        Option("per_page", int, 500, "photos per listing page (500, Flickr's maximum, needs the fewest calls)",
               min=1, max=500),
    ]

    # -- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        self.client = connect(self.config, self.context, perms="read")
        self.downloads = new_session(timeout=request_timeout(self.config))  # retried by each Download
        try:
            user = fr.obj(self.client.call("flickr.test.login").get("user"))
        except FlickrCallError as exc:
            raise ServiceStopped(f"Flickr refused flickr.test.login ({exc}); rerun later") from None
        self.nsid, self.username = fr.text(user.get("id")), fr.text(user.get("username"))
        if not self.nsid:
            raise ServiceStopped("Flickr answered flickr.test.login without a user id; rerun later")
        self.capped = self._free_account()
        if self.capped:
            self.context.warn(FREE_NOTICE)
        self._plan: list[Listed] | None = None
        self._albums: list[Container] = []
        self._places: dict[str, list[AlbumRef]] = {}
        self._retry_ids: set[str] = set()

    def _free_account(self) -> bool:
        """Is the account free (no originals, nothing above 1024 px)? Unknown counts as Pro: the originals are
        then asked for, and a refusal falls back photo by photo."""
        try:
            status = fr.obj(self.client.call("flickr.people.getUploadStatus").get("user"))
        except FlickrCallError as exc:
            self.context.log.info("people.getUploadStatus refused (%s): the account is taken for a Pro one", exc)
            return False
        return fr.text(status.get("ispro")).strip() == "0"

    def account(self) -> str:
        return self.nsid

    def close(self) -> None:
        with contextlib.suppress(AttributeError):
            self.downloads.close()

    def total(self) -> int:
        return len(self.plan())

    # -- listing --------------------------------------------------------------------------------
    def plan(self) -> list[Listed]:
        """The whole photostream, oldest first, with album places; read once per run."""
        if self._plan is None:
            try:
                photos = self._list_photos()
                self._read_sets()
            except FlickrCallError as exc:  # without the listing the run cannot go on
                raise ServiceStopped(f"Flickr refused the listing ({exc}); nothing was lost: rerun later") from None
            photos.sort(key=lambda raw: (fr.as_int(raw.get("dateupload")) or 0, fr.as_int(raw.get("id")) or 0))
            self._plan = [self._listed(raw, position) for position, raw in enumerate(photos, 1)]
        return self._plan

    def _list_photos(self) -> list[dict[str, Any]]:
        extras = f"{LIST_EXTRAS},{fr.CAPPED_EXTRAS}" if self.capped else LIST_EXTRAS
        photos, total = self._pages("flickr.people.getPhotos", "photos", "photo", ordered=False,
                                    user_id="me", extras=extras)
        if total is not None and len(photos) < total:
            self.context.warn(f"Flickr listed only {len(photos)} of {total} photos even after asking again; "
                              "the rest will be picked up by a later run")
        return photos

    def _read_sets(self) -> None:
        sets, _ = self._pages("flickr.photosets.getList", "photosets", "photoset", ordered=True)
        for position, raw in enumerate(sets, 1):
            set_id, title = fr.text(raw.get("id")), fr.text(raw.get("title"))
            try:
                members, total = self._pages("flickr.photosets.getPhotos", "photoset", "photo", ordered=True,
                                             photoset_id=set_id, user_id=self.nsid)
            except FlickrCallError as exc:
                if exc.code == 1:  # deleted since getList: nothing left to mirror
                    continue
                raise
            ids = [fr.text(m.get("id")) for m in members]
            if total is not None and len(ids) < total:
                self.context.warn(f"Flickr listed only {len(ids)} of {total} photos of set {set_id} {title!r}; "
                                  "a later run will complete it")
            for place, photo_id in enumerate(ids, 1):
                self._places.setdefault(photo_id, []).append(AlbumRef(set_id, title, place))
            self._albums.append(fr.album(raw, ids, position))

    def _pages(self, method: str, list_key: str, item_key: str, *, ordered: bool,
               **params: Any) -> tuple[list[dict[str, Any]], int | None]:
        """Every item of a paged listing (and the total Flickr announces).

        A page shorter than it should be is asked again, up to PAGE_TRIES times, and the answers merged:
        until all items are there and, where order matters, until the answers pin the order down."""
        per_page = self.config["per_page"]

        def read(number: int) -> Page:
            block = fr.obj(self.client.call(method, page=number, per_page=per_page, **params).get(list_key))
            answer = [item for item in fr.items(block, item_key) if fr.text(item.get("id"))]
            return Page(number, block, answer, fr.as_int(block.get("pages")) or 1, fr.as_int(block.get("total")))

        def merge(answers: list[Page]) -> tuple[Page, bool]:
            order, settled = fr.merge_answers([[fr.text(item.get("id")) for item in a.items] for a in answers])
            first: dict[str, dict[str, Any]] = {}
            for answer in answers:
                for item in answer.items:
                    first.setdefault(fr.text(item.get("id")), item)
            return replace(answers[-1], items=[first[i] for i in order]), settled or not ordered

        found: dict[str, dict[str, Any]] = {}
        total = None
        for page in read_pages(read, per_page, tries=PAGE_TRIES, merge=merge):
            total = page.total
            for item in page.items:
                found.setdefault(fr.text(item.get("id")), item)
        return list(found.values()), total

    def _listed(self, raw: dict[str, Any], position: int) -> Listed:
        """The change marker covers what a photo's record holds that lastupdate does not move with."""
        photo_id = fr.text(raw.get("id"))
        places = [[a.id, a.title, a.position] for a in self._places.get(photo_id, [])]
        digest = hashlib.sha256(json.dumps(places, ensure_ascii=False).encode()).hexdigest()[:12] if places else ""
        comments = fr.text(raw.get("count_comments")) if self._fetch_comments() else "-"
        marker = f"{fr.text(raw.get('lastupdate'))}/{comments}/{digest}"
        return Listed(raw, photo_id, position, marker + DETAILS_MARK if self.config["details"] else marker)

    def entries(self) -> Iterator[Entry]:
        plan = self.plan()
        # a photo last saved from a fallback rendition is loaded again: its original may be back (not while the
        # account is free: Flickr would give the same capped size again)
        fallbacks = {} if self.capped else self.context.memory_items("fallback:")
        self._retry_ids = {key.split(":", 1)[1] for key in fallbacks}
        for listed in plan:
            marker = None if listed.photo_id in self._retry_ids else listed.marker
            yield Entry(source=fr.SOURCE, id=listed.photo_id, load=partial(self._load, listed), updated_at=marker,
                        title=fr.text(listed.raw.get("title")))

    def containers(self) -> Iterator[Container]:
        self.plan()
        yield from self._albums
        try:
            tree = fr.obj(self.client.call("flickr.collections.getTree").get("collections"))
        except FlickrCallError as exc:
            self.context.warn(f"Flickr refused collections.getTree ({exc}); collections were not mirrored this run")
            return
        yield from fr.collections(fr.items(tree, "collection"))

    # -- loading one photo ------------------------------------------------------------------------
    def _load(self, listed: Listed) -> Item:
        photo_id, raw = listed.photo_id, listed.raw
        info = self._info(photo_id) if self.config["details"] else None
        raw_comments = self._comments(listed)
        title = fr.text(raw.get("title"))
        fetched, reason = self._fetch(listed, info, title)
        try:
            extra = self._flag_fallback(photo_id, title, fetched, reason)
            ext = fetched.ext if reason else fr.text(raw.get("originalformat")) or fetched.ext
            file = FileInfo(ext=ext or None, size=fetched.size, content_type=fetched.content_type)
            record = fr.document(raw, info, raw_comments, listed.position, self._places.get(photo_id, []), file,
                                 extra)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            fetched.response.close()
            raise DocumentError(f"Flickr photo {photo_id}: malformed answer ({type(exc).__name__}: {exc})") from None
        except BaseException:
            fetched.response.close()
            raise
        label = f"flickr:{photo_id} {title[:40]!r}"
        download = Download(self.downloads, fetched.url, label, self.client.policy)  # one budget per photo
        # a cut in this first answer is transient (the run loop retries the store, which GETs again)
        opener = FirstAnswer(ResponseStream(fetched.response, label), download)
        original = Original(opener, label, size=fetched.size)
        weakref.finalize(original, opener.close)
        return Item(record, original)

    def _info(self, photo_id: str) -> dict[str, Any]:
        info = self._call("flickr.photos.getInfo", photo_id).get("photo")
        if not isinstance(info, dict) or fr.text(info.get("id")) != photo_id:
            raise DocumentError(f"Flickr photo {photo_id}: photos.getInfo answered without this photo")
        return info

    def _comments(self, listed: Listed) -> list[dict[str, Any]] | None:
        """None when comments are off; asked only when the listing counts some (or cannot say how many)."""
        if not self._fetch_comments():
            return None
        count = fr.as_int(fr.text(listed.raw.get("count_comments")))
        if count is not None and count <= 0:
            return []
        answer = self._call("flickr.photos.comments.getList", listed.photo_id)
        return fr.items(fr.obj(answer.get("comments")), "comment")

    def _fetch_comments(self) -> bool:
        return self.config["comments"] != COMMENTS_OFF

    def _call(self, method: str, photo_id: str) -> dict[str, Any]:
        """A per-photo call: Flickr's refusals fail this photo only."""
        try:
            return self.client.call(method, photo_id=photo_id)
        except FlickrCallError as exc:
            if exc.code == 1:
                raise DocumentError(f"Flickr photo {photo_id} is gone (deleted since the listing?)") from None
            raise DocumentError(f"Flickr photo {photo_id}: {exc}") from None

    def _flag_fallback(self, photo_id: str, title: str, fetched: Fetched, reason: str | None) -> dict[str, Any]:
        """A stand-in for the original must never pass for it: say so in the record, the report and state."""
        if reason is None:
            if photo_id in self._retry_ids:
                self.context.memory_delete(f"fallback:{photo_id}")
            return {}
        if not self.capped:  # a free account's cap was said once, at the start
            self.context.warn(f"flickr photo {photo_id} {title!r}: {reason}; saved the {fetched.label!r} rendition "
                              "instead, so this backup is NOT the original (later runs try again)")
        self.context.memory_set(f"fallback:{photo_id}", fetched.label)
        return {"fallback": fetched.label, "fallback_reason": reason}

    def _fetch(self, listed: Listed, info: dict[str, Any] | None, title: str) -> tuple[Fetched, str | None]:
        """The original's GET if the host serves it, else the best other size's and why (None: the original)."""
        photo_id, media = listed.photo_id, fr.media(info or {}, listed.raw)
        if self.capped:  # no original to try: the largest allowed size, from the listing where it names them
            listed_sizes = fr.listed_sizes(listed.raw) if media == "photo" else []
            sizes = fr.fallback_sizes(listed_sizes or self._sizes(photo_id), media, FREE_MAX_EDGE)
            return self._stand_in(photo_id, title, sizes, FREE_REASON)
        sizes: list[dict[str, Any]] | None = None
        if media == "video":  # url_o and "Original" are only a still of a video
            sizes, label = self._sizes(photo_id), "Video Original"
            url = next((fr.text(s.get("source")) for s in sizes if fr.text(s.get("label")) == label), "")
            reason = "Flickr lists no 'Video Original' for it"
        else:
            label, url = "Original", fr.text(listed.raw.get("url_o"))
            if not url:
                sizes = self._sizes(photo_id)
                url = next((fr.text(s.get("source")) for s in sizes if fr.text(s.get("label")) == label), "")
            reason = "Flickr offers no original"
        if url:
            found = self._get(photo_id, url, label)
            if isinstance(found, Fetched):
                return found, None
            reason = f"the file host answers HTTP {found} for the original"
        return self._stand_in(photo_id, title, fr.fallback_sizes(sizes if sizes is not None else self._sizes(photo_id),
                                                                 media), reason)

    def _stand_in(self, photo_id: str, title: str, sizes: list[dict[str, Any]], reason: str) -> tuple[Fetched, str]:
        """The first of the best `sizes` the host serves, and why it stands in for the original."""
        for size in sizes[:PROBES]:
            found = self._get(photo_id, fr.text(size.get("source")), fr.text(size.get("label")))
            if isinstance(found, Fetched):
                return found, reason
        raise DocumentError(f"Flickr photo {photo_id} {title!r}: {reason}, and no other size can be fetched")

    def _sizes(self, photo_id: str) -> list[dict[str, Any]]:
        return fr.items(fr.obj(self._call("flickr.photos.getSizes", photo_id).get("sizes")), "size")

    def _get(self, photo_id: str, url: str, label: str) -> Fetched | int:
        """GET `url` (following redirects), body not read: a Fetched when it is served, else the HTTP status."""
        import requests  # the downloads session is requests': imported once the source is in use

        def get() -> requests.Response:
            answer = self.downloads.get(url, stream=True)
            if answer.status_code in RETRY_STATUSES:
                answer.close()
                raise requests.HTTPError(f"HTTP {answer.status_code}", response=answer)
            return answer

        def give_up(exc: Exception) -> DocumentError:
            return DocumentError(f"flickr:{photo_id}: the file host keeps failing ({type(exc).__name__}); "
                                 "a rerun tries again")

        try:
            response = retrying(get, http_trouble, give_up, self.client.policy)
        except requests.RequestException as exc:
            # the URL stays out: an original's URL holds its secret
            raise DocumentError(f"flickr:{photo_id}: cannot fetch its {label!r} file ({type(exc).__name__})") from None
        if response.status_code != 200:
            response.close()
            return response.status_code
        headers = response.headers
        # a compressed transfer's length is not the file's
        size = None if headers.get("Content-Encoding") else fr.as_int(headers.get("Content-Length"))
        size = size if size is not None and size >= 0 else None  # a hostile header is no size
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip() or None
        suffix = Path(urlparse(response.url or url).path).suffix.lstrip(".").lower()
        return Fetched(url, label, response, size, content_type, suffix or None)

    # -- sandbox --------------------------------------------------------------------------------
    @classmethod
    def sandbox(cls, workdir: Path) -> contextlib.AbstractContextManager[dict[str, Any]]:
        return sandboxed.serve(workdir, _seeded_account, "read")

    @classmethod
    def sandbox_summary(cls, workdir: Path) -> list[str]:
        return sandboxed.summary(workdir, _seeded_account)


def _seeded_account() -> Any:
    from .sandbox import build_seeded_account

    return build_seeded_account(0)
