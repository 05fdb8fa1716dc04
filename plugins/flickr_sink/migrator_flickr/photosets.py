"""Albums as Flickr photosets, each exactly once, complete and in the source's order.

Memory (per Flickr account): `set:<album>` the photoset an album became; `set_intent:<album>` a
photosets.create about to be sent (with its primary photo); `set_dirty:<album>` photos were added
since the set's order was last written; `sets_unordered` a set was created since the sets were last put
in album order (photosets.orderSets at the end of the run); `album:<album>` the members, title and description the
containers phase asked for; `preset:<set id>` the titles of the sets the account already had when this
state first met it (`sets_listed`), the only sets that can be ours without being remembered.

A set is found again from a member photo's contexts (photos.getAllContexts, titles compared) or, for
sets made before the state was lost, by an exact title that no other album claimed. A set or photo
deleted on Flickr by hand is a normal event: the set is made again; the photo is left out and reported.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from migrator import Context, StoredRecord
from migrator.answers import as_int, items, obj, text
from migrator.errors import AnswerLost, DocumentError, SkipDocument, TransientError
from migrator.service import Page, read_pages

from .client import FlickrCallError, FlickrClient

RESTORE_HINT = "to upload it again: rerun with -o flickr.restore_deleted=true"
UNORDERED = "sets_unordered"  # memory: a set was created since the account's sets were last put in album order


def set_title(title: str) -> str:
    return title or "untitled"


class Photosets:
    def __init__(self, client: FlickrClient, context: Context, lock: threading.RLock) -> None:
        self.client, self.context, self.lock = client, context, lock
        self._preset_titles: dict[str, str] | None = None

    # -- during the documents phase -----------------------------------------------------------------
    def place(self, album_key: str, title: str, photo_id: str, fresh: bool) -> None:
        """Put a photo into its album's set as it is uploaded (the containers phase fixes the order)."""
        with self.lock:
            set_id = self.find(album_key, title, [] if fresh else [photo_id])
            if set_id is None:
                if self._ambiguous(title):
                    return  # the containers phase decides, knowing every member
                self.create(album_key, title, photo_id)
                return
        self.context.memory_set(f"set_dirty:{album_key}", True)
        try:
            self.client.call_once("flickr.photosets.addPhoto", photoset_id=set_id, photo_id=photo_id)
        except AnswerLost:
            raise TransientError("the answer to photosets.addPhoto was lost; asking again is safe (Flickr "
                                 "answers 'already in set' if it was done)") from None
        except FlickrCallError as exc:
            if exc.code == 1:  # the set was deleted on Flickr: make it again
                with self.lock:
                    self.context.memory_delete(f"set:{album_key}")
                    self.create(album_key, title, photo_id)
            elif exc.code != 3:  # 3: already in the set
                raise DocumentError(f"cannot add the photo to set {set_id} ({exc.message})") from None

    def order(self, set_ids: list[str]) -> None:
        """After a run that created sets: the album's sets first, in the source's album order (as Flickr
        would show them had they been created one by one in that order). Repeating it is harmless."""
        if not set_ids or not self.context.memory_get(UNORDERED):
            return
        try:
            self.client.call_once("flickr.photosets.orderSets", photoset_ids=",".join(dict.fromkeys(set_ids)))
        except (AnswerLost, FlickrCallError) as exc:  # the flag stays: the next run orders them
            self.context.warn(f"Flickr did not order the sets ({exc}); the next run tries again")
            return
        self.context.memory_delete(UNORDERED)

    # -- finding and creating -----------------------------------------------------------------------
    def find(self, album_key: str, title: str, members: list[str]) -> str | None:
        """The set of an album: remembered, or found again (then remembered); None if there is none."""
        remembered = self.context.memory_get(f"set:{album_key}")
        if remembered:
            return str(remembered)
        intent = self.context.memory_get(f"set_intent:{album_key}")
        presets = self._presets()
        found = None
        if intent is not None or set_title(title) in presets.values():
            candidates = members + ([str(intent["primary"])] if intent else [])
            found = self._from_contexts(title, candidates)
        if found is None and intent is None:
            same = [s for s, t in presets.items() if t == set_title(title) and s not in self._claimed()]
            found = same[0] if len(same) == 1 else None
        if found is not None:
            self.context.memory_set(f"set:{album_key}", found)
        if intent is not None:
            self.context.memory_delete(f"set_intent:{album_key}")  # resolved either way
        return found

    def create(self, album_key: str, title: str, primary: str) -> str:
        self.context.memory_set(f"set_intent:{album_key}", {"primary": primary, "at": int(time.time())})
        try:
            answer = self.client.call_once("flickr.photosets.create", title=set_title(title),
                                           primary_photo_id=primary)
        except AnswerLost:
            raise TransientError("the answer to photosets.create was lost; the set will be looked for before "
                                 "it is created again") from None
        except FlickrCallError as exc:
            self.context.memory_delete(f"set_intent:{album_key}")
            raise DocumentError(f"cannot create the Flickr set for album {title!r} ({exc.message})") from None
        set_id = str((answer.get("photoset") or {}).get("id"))
        # Flickr puts a new set first: sets made while documents finish in any order get ordered at the end.
        # set_dirty stays the batch's last key: the batch's checkpoint is named after it
        self.context.memory_set_many({UNORDERED: True, f"set:{album_key}": set_id, f"set_dirty:{album_key}": True})
        self.context.memory_delete(f"set_intent:{album_key}")
        return set_id

    def _from_contexts(self, title: str, photo_ids: list[str]) -> str | None:
        """The one unclaimed set with this title that holds one of these photos."""
        claimed = self._claimed()
        for photo_id in photo_ids:
            try:
                contexts = self.client.call("flickr.photos.getAllContexts", photo_id=photo_id).get("set") or []
            except FlickrCallError:
                continue  # the photo is gone: another member may tell
            matches = [str(s["id"]) for s in contexts
                       if text(s.get("title")) == set_title(title) and str(s["id"]) not in claimed]
            if len(matches) == 1:
                return matches[0]
        return None

    def _presets(self) -> dict[str, str]:
        """The sets the account had when this state first met it, by id (read once, then remembered)."""
        if self._preset_titles is None:
            if not self.context.memory_get("sets_listed"):
                found: dict[str, Any] = {f"preset:{s['id']}": text(s.get("title")) for s in
                                         self.client.pages("flickr.photosets.getList", "photosets", "photoset")}
                self.context.memory_set_many({**found, "sets_listed": True})
            self._preset_titles = {k[len("preset:"):]: v for k, v in self.context.memory_items("preset:").items()}
        return self._preset_titles

    def _claimed(self) -> set[str]:
        return {str(v) for v in self.context.memory_items("set:").values()}

    def _ambiguous(self, title: str) -> bool:
        claimed = self._claimed()
        return any(t == set_title(title) and s not in claimed for s, t in self._presets().items())

    # -- the containers phase -----------------------------------------------------------------------
    def finish(self, album_key: str, previous: StoredRecord | None, describe: Any) -> tuple[str, dict, list[str]]:
        """Members, order, title and description of one set, in as few calls as the differences need.

        Returns the set id, what it now holds and warnings. `describe(photo_id)` names a member photo's
        document for messages. The dirty mark goes only once both writes are done.
        """
        album = dict(self.context.memory_get(f"album:{album_key}"))
        done = dict(previous.data) if previous is not None and previous.status == "done" else {}
        dirty = bool(self.context.memory_get(f"set_dirty:{album_key}"))
        warnings: list[str] = []
        with self.lock:
            set_id = self.find(album_key, album["title"], album["photos"]) or \
                self.create(album_key, album["title"], album["photos"][0])
        members_changed = dirty or done.get("photos") != album["photos"]
        meta_changed = dirty or (done.get("title"), done.get("description")) != (album["title"], album["description"])
        if done and (members_changed or meta_changed):
            set_id, edited = self._check_hand_edits(album_key, set_id, album, done, warnings)
            members_changed = members_changed or edited
        if members_changed:
            set_id = self._edit_photos(album_key, set_id, album, warnings, describe)
        if meta_changed:
            self.client.call("flickr.photosets.editMeta", photoset_id=set_id, title=set_title(album["title"]),
                             description=album["description"])
        self.context.memory_delete(f"set_dirty:{album_key}")
        return set_id, album, warnings

    def _check_hand_edits(self, album_key: str, set_id: str, album: dict, done: dict,
                          warnings: list[str]) -> tuple[str, bool]:
        """Before a set we wrote is written again: was it changed on Flickr since? Then say so, and
        write all of it (the source's members and order), not only what changed at the source."""
        now = self._contents(set_id)
        if now is None:
            warnings.append(f"set {set_title(album['title'])!r} was deleted on Flickr; created again")
            return self._recreate(album_key, album), True
        title, photos = now
        written = list(done.get("photos") or [])
        ours_now = [p for p in photos if p in set(written)]  # photos added during this run don't count
        if title == set_title(done.get("title") or "") and ours_now == written:
            return set_id, False
        warnings.append(f"set {set_title(album['title'])!r} was edited on Flickr since migrator last wrote it; "
                        "its title, members and order are now the source's again")
        return set_id, True

    def _contents(self, set_id: str) -> tuple[str, list[str]] | None:
        """A set's title and photo ids as Flickr has them now; None when the set is gone."""
        def read(number: int) -> Page:
            block = obj(self.client.call("flickr.photosets.getPhotos", photoset_id=set_id, page=number,
                                         per_page=500).get("photoset"))
            return Page(number, block, items(block, "photo"), as_int(block.get("pages")) or 1)

        photos: list[str] = []
        title = ""
        try:
            for page in read_pages(read, 500):
                title = text(page.block.get("title"))
                photos += [str(p.get("id")) for p in page.items]
        except FlickrCallError as exc:
            if exc.code == 1:
                return None
            raise
        return title, photos

    def _edit_photos(self, album_key: str, set_id: str, album: dict, warnings: list[str], describe: Any) -> str:
        for _ in range(3):  # a deleted set, then deleted photos, are each mended once
            try:
                self.client.call("flickr.photosets.editPhotos", photoset_id=set_id,
                                 primary_photo_id=album["photos"][0], photo_ids=",".join(album["photos"]))
                return set_id
            except FlickrCallError as exc:
                if exc.code == 1:
                    warnings.append(f"set {set_title(album['title'])!r} was deleted on Flickr; created again")
                    set_id = self._recreate(album_key, album)
                elif exc.code in (2, 3):
                    self._leave_out_deleted(album, warnings, describe)
                else:
                    raise DocumentError(f"Flickr refused photosets.editPhotos ({exc.message})") from None
        raise DocumentError(f"Flickr kept refusing the members of set {set_id}; rerun to retry")

    def _recreate(self, album_key: str, album: dict) -> str:
        with self.lock:
            self.context.memory_delete(f"set:{album_key}")
            return self.create(album_key, album["title"], album["photos"][0])

    def _leave_out_deleted(self, album: dict, warnings: list[str], describe: Any) -> None:
        gone = [p for p in album["photos"] if not self._exists(p)]
        for photo_id in gone:
            warnings.append(f"{describe(photo_id)} (Flickr photo {photo_id}) was deleted on Flickr; left out of set "
                            f"{set_title(album['title'])!r} ({RESTORE_HINT})")
        album["photos"] = [p for p in album["photos"] if p not in gone]
        if not album["photos"]:
            raise SkipDocument(f"every photo of the set was deleted on Flickr ({RESTORE_HINT})")

    def _exists(self, photo_id: str) -> bool:
        try:
            self.client.call("flickr.photos.getInfo", photo_id=photo_id)
        except FlickrCallError as exc:
            if exc.code == 1:
                return False
            raise
        return True
