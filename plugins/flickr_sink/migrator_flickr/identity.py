"""Which Flickr photo a document became, exactly once, whatever was killed or lost on the way.

The sink's memory (per Flickr account, in the state store) holds:

- `intent:<source>:<id>`: an upload is about to be sent (written before it, with the time).
- `photo:<source>:<id>`: the photo it became (written as soon as the id is known, before any other
  call touches the photo, so nothing the sink later changes on it, such as its posted date, can hide
  it from a lookup).
- `tagged:<machine tag>`: the account's photos carrying a `migrator:` machine tag, and
  `flop:<title>\\n<taken>`: earlier uploads made without migrator, both saved from one listing of the
  account (together with `account_listed`, in one transaction) the first time this state meets the
  account, for instance after a lost state. Later runs never list the whole account again.

Earlier uploads (the sink option `adopt_tagged`): a photo without a `migrator:` machine tag that
carries, as a plain tag, one of the source names listed, is an earlier upload of the document of that
source with the same title and date taken, and is adopted instead of uploaded again. flop tagged its
ipernity uploads `ipernity`, hence the default. The listing reads the names when it is made; the
memory key holds title and date only, so with several names listed a photo is adopted by the first
unclaimed document of any listed source with that title and date.

A leftover intent means the answer to an upload was lost: the photo may exist. It is looked for among
the photos uploaded since the intent (people.getPhotos with min_upload_date, which unlike search does
not lag behind uploads) before anything is sent again.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from migrator import Context, Document

from .client import FlickrClient, legacy_machine_tag, machine_tag

INDEX_EXTRAS = "machine_tags,tags,date_taken,date_upload"
SLACK = 86400  # seconds of clock difference (and upload processing) tolerated between us and Flickr


class PhotoIndex:
    def __init__(self, client: FlickrClient, context: Context, lock: threading.RLock,
                 adopt: frozenset[str] = frozenset()) -> None:
        self.client, self.context, self.lock = client, context, lock
        self.adopt = adopt  # sources whose name, as a plain tag, marks an earlier upload
        self._run_started = int(time.time())
        self._earlier_intents_listed = False

    # -- the protocol ------------------------------------------------------------------------------
    def find(self, doc: Document, key: str) -> str | None:
        """The photo this document already is on Flickr, if any; resolves a leftover intent."""
        remembered = self.context.memory_get(f"photo:{key}")
        if remembered:
            return str(remembered)
        with self.lock:
            self._ensure_listed()
            intent = self.context.memory_get(f"intent:{key}")
            if intent is not None:
                self._list_since_intent(int(intent.get("at", 0)))
            found = self._tagged(doc) or self._earlier_upload(doc)
            if found is not None:
                self.remember(key, found)
            elif intent is not None:
                self.context.memory_delete(f"intent:{key}")  # the upload never arrived: send it again
            return found

    def intend(self, key: str) -> None:
        self.context.memory_set(f"intent:{key}", {"at": int(time.time())})

    def remember(self, key: str, photo_id: str) -> None:
        self.context.memory_set(f"photo:{key}", photo_id)
        self.context.memory_delete(f"intent:{key}")

    def abandon(self, key: str) -> None:
        """Flickr refused the upload for certain: nothing was created."""
        self.context.memory_delete(f"intent:{key}")

    def forget(self, key: str) -> None:
        """The photo is gone from Flickr (deleted by hand)."""
        self.context.memory_delete(f"photo:{key}")

    # -- listings ----------------------------------------------------------------------------------
    def relist(self) -> set[str]:
        """List the whole account again and save what it holds now; the ids of every photo on it."""
        with self.lock:
            return self._save_listing(None, replace=True, finished=True)

    def _ensure_listed(self) -> None:
        if not self.context.memory_get("account_listed"):
            self._save_listing(None, replace=False, finished=True)

    def _list_since_intent(self, at: int) -> None:
        if at >= self._run_started:  # this run's own lost answer: list what arrived since then
            self._save_listing(at - SLACK)
        elif not self._earlier_intents_listed:  # leftovers of killed runs: one listing covers them all
            oldest = min(int(i.get("at", 0)) for i in self.context.memory_items("intent:").values())
            self._save_listing(oldest - SLACK)
            self._earlier_intents_listed = True

    def _save_listing(self, since: int | None, replace: bool = False, finished: bool = False) -> set[str]:
        extra = {"min_upload_date": since} if since else {}
        found: dict[str, Any] = {}
        present: set[str] = set()
        for photo in self.client.pages("flickr.people.getPhotos", "photos", "photo", user_id="me",
                                       extras=INDEX_EXTRAS, **extra):
            photo_id = str(photo.get("id") or "")
            present.add(photo_id)
            tags = str(photo.get("machine_tags") or "").split()
            ours = [t.lower() for t in tags if t.lower().startswith("migrator:")]
            for tag in ours:
                found.setdefault(f"tagged:{tag}", photo_id)
            if not ours and since is None and self.adopt.intersection(str(photo.get("tags") or "").split()):
                flop_key = f"flop:{photo.get('title') or ''}\n{photo.get('datetaken') or ''}"
                found.setdefault(flop_key, []).append(photo_id)
        if replace:
            stale = [k for k in self.context.memory_items("tagged:") if k not in found]
            for key in stale:
                self.context.memory_delete(key)
        if finished:
            found["account_listed"] = True
        self.context.memory_set_many(found)
        return present

    # -- lookups -----------------------------------------------------------------------------------
    def _tagged(self, doc: Document) -> str | None:
        for tag in (machine_tag(doc.source, doc.id), legacy_machine_tag(doc.source, doc.id)):
            if tag is not None:
                found = self.context.memory_get(f"tagged:{tag.lower()}")
                if found:
                    return str(found)
        return None

    def _earlier_upload(self, doc: Document) -> str | None:
        """An earlier upload of this document (its source's name as a tag, same title and date taken)."""
        if doc.source not in self.adopt:
            return None
        flop_key = f"flop:{doc.title}\n{(doc.taken_at or '').replace('T', ' ')}"
        candidates = [str(c) for c in self.context.memory_get(flop_key) or []]
        if not candidates:
            return None
        claimed = {str(v) for v in self.context.memory_items("photo:").values()}
        return next((c for c in candidates if c not in claimed), None)
