"""Ground truth of the ipernity sandbox: one deterministic account.

``build_account(seed)`` returns the same :class:`Account` for the same seed.  The
account is deliberately nasty: hostile titles and file names, duplicate album
titles, an empty album, an album with more than 100 documents, a document with
more than 100 comments, every visibility combination, every licence, all four
media kinds, documents with and without location, unknown "date taken" ...

Originals are small (1-30 KB) files regenerated on demand from a per-document key
(:meth:`Original.content`); only their size and MD5 are kept in memory.  Photos (JPEG,
PNG, GIF) and MP4/QuickTime videos are real files that decode (JPEG and PNG carry EXIF:
date taken and the orientation of the document's rotation, see :mod:`.media`); the other
kinds are pseudo-random bytes behind the format's magic number.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from typing import Any

from . import media as real_media

# --------------------------------------------------------------------------------------
# enumerations (reference §9)

MEDIA = ("photo", "video", "audio", "other")
LICENSES = (0, 1, 3, 5, 7, 9, 11, 255)
SAFETY = (1, 2, 3)
VISIBILITY_COMBOS = tuple((p, fr, fa) for p in (0, 1) for fr in (0, 1) for fa in (0, 1))
UNKNOWN_DATE = "0000-00-00 00:00:00"

EXTENSIONS = {
    "photo": ("jpg", "jpg", "jpg", "jpg", "png", "gif"),
    "video": ("mp4", "mov", "avi"),
    "audio": ("mp3", "wav"),
    "other": ("pdf", "zip", "txt"),
}

_MAGIC = {
    "jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\xff\xd9"),
    "png": (b"\x89PNG\r\n\x1a\n", b""),
    "gif": (b"GIF89a", b";"),
    "mp4": (b"\x00\x00\x00\x18ftypmp42", b""),
    "mov": (b"\x00\x00\x00\x14ftypqt  ", b""),
    "avi": (b"RIFF\x00\x00\x00\x00AVI ", b""),
    "mp3": (b"ID3\x04\x00\x00", b""),
    "wav": (b"RIFF\x00\x00\x00\x00WAVE", b""),
    "pdf": (b"%PDF-1.4\n", b"\n%%EOF\n"),
    "zip": (b"PK\x03\x04", b""),
    "txt": (b"sandbox text file\n", b"\n"),
}

# --------------------------------------------------------------------------------------
# hostile names every default account contains (tests check each one is present)

LONG_TITLE = ("A very long title that keeps going and going " * 8).strip()  # 359 chars
LONG_FILENAME = ("very_long_original_file_name_" * 10) + ("\u00e9" * 20) + ".jpg"  # 314 chars

HOSTILE_TITLES: tuple[str, ...] = (
    "a/b/c with slashes",
    "..",
    "../../etc/passwd",
    "Caf\u00e9",  # NFC
    "Cafe\u0301",  # NFD
    "Sunset \U0001f305 beach \U0001f3d6\ufe0f family \U0001f468\u200d\U0001f469\u200d\U0001f467",
    LONG_TITLE,
    "",
    "ctrl\x00\x01\x07\x1b[31m\x7f tab\there\nnew line\r\n",
    "CON",
    "aux.txt",
    "  leading and trailing spaces  ",
    "trailing dots...",
    "...leading dots",
    " . ",
    "back\\slash\\title",
    "<b>HTML</b> & \"quotes\" 'single' <script>alert(1)</script>",
    "colon:star*question?pipe|lt<gt>",
    "\u202eright-to-left override gpj.exe",
    "zero\u200bwidth\ufeffspace",
)

HOSTILE_FILENAMES: tuple[str, ...] = (
    "a/b/c.jpg",
    "..",
    "../../etc/passwd",
    "Caf\u00e9.jpg",
    "Cafe\u0301.jpg",
    "\U0001f305 sunset \U0001f3d6\ufe0f.jpg",
    LONG_FILENAME,
    "",
    "ctrl\x01\x1f\x7f\tname.jpg",
    "CON",
    "aux.txt",
    "  spaced name .jpg  ",
    "trailing dots.jpg...",
    ".hidden.jpg",
    "back\\slash.jpg",
    "IMG_0001.JPG",
    "IMG_0001.JPG",  # the same uploaded name on two documents
    "no_extension",
    "archive.tar.gz",
    "question?.jpg",
    "COM1.jpg",
)

HOSTILE_ALBUM_TITLES: tuple[str, ...] = (
    "../../etc/passwd",
    "a/b album",
    "Caf\u00e9",
    "Cafe\u0301",
    "\U0001f389 Party \U0001f389",
    "CON",
    "  spaced album  ",
    "album with dots...",
    "",
    ("A very long album title " * 14).strip(),
    "ctrl\x01\x1f album\nline",
    "<i>html</i> &amp; & co",
)

DUPLICATE_ALBUM_TITLE = "Holidays"
EMPTY_ALBUM_TITLE = "Nothing here yet"
BIG_ALBUM_TITLE = "Everything worth keeping"

_KEYWORDS = (
    "sunset", "beach", "family", "cat", "dog", "macro", "street", "portrait", "snow",
    "night", "sea", "mountains", "flowers", "bridge", "caf\u00e9", "\u00e9t\u00e9", "\u6771\u4eac",
)
_MULTIWORD = ("new york", "black and white", "street photography", "long exposure", "st. malo")
_MACHINE = (
    "geo:country=fr", "geo:city=paris", "camera:make=canon", "camera:model=eos 5d",
    "exif:iso=400", "dc:creator=Sandbox User", "ipernity:import=flickr",
)
_ADJ = ("Morning", "Quiet", "Golden", "Foggy", "Late", "Blue", "Windy", "Old", "Bright", "Lazy")
_NOUN = ("harbour", "street", "garden", "market", "bridge", "station", "forest", "beach",
         "kitchen", "rooftop", "river", "chapel")
_PLACES = (
    (48.858370, 2.294481, "Paris"), (40.748817, -73.985428, "New York"),
    (35.658581, 139.745433, "Tokyo"), (-33.856784, 151.215297, "Sydney"),
    (51.500729, -0.124625, "London"), (64.146582, -21.942635, "Reykjavik"),
    (-22.951916, -43.210487, "Rio de Janeiro"), (0.0, 0.0, ""),
)
_DESCRIPTIONS = (
    "",
    "Plain text description.",
    "<b>Bold</b> and <i>italic</i> &amp; an <a href=\"https://example.com/?a=1&b=2\">HTML link</a>"
    "<br />\nSecond line.",
    "Multi\nline\n\ndescription with unicode: caf\u00e9, \u00fcber, \u65e5\u672c, \U0001f600",
    "<p>Paragraph one.</p><p>Paragraph two with &lt;escaped&gt; text.</p>",
    "Quotes \"double\" and 'single', backslash \\ and tab\t.",
)
_COMMENT_TEXTS = (
    "Lovely!", "Great light.", "<b>Wow</b>, what a shot &amp; colours!",
    "Where was this taken?", "Merci pour le partage \U0001f60a", "Thanks!",
    "Nice composition<br />and depth.", "\u7d20\u6674\u3089\u3057\u3044",
)
_COMMENTERS = (
    ("Annie", "Annie Leibovitz"), ("bruno_p", "Bruno P."), ("Chlo\u00e9", ""),
    ("dave 42", "Dave"), ("\u30e6\u30ad", "Yuki"), ("e.v.a", "Eva Example"),
)


# --------------------------------------------------------------------------------------
# content


def make_content(key: str, size: int, ext: str = "", w: int = 0, h: int = 0, taken: str = "",
                 rotation: int = 0) -> bytes:
    """Deterministic content of exactly ``size`` bytes for ``key``: a real file when ``ext`` has one
    and ``size`` allows it (:func:`.media.real_file`; ``w``/``h`` give the aspect ratio, ``taken`` and
    ``rotation`` the EXIF), else pseudo-random bytes behind the format's magic number."""
    real = real_media.real_file(key, size, ext.lower(), w, h, taken, rotation)
    if real is not None:
        return real
    head, tail = _MAGIC.get(ext.lower(), (b"", b""))
    if len(head) + len(tail) > size:
        head, tail = b"", b""
    rng = random.Random("content:" + key)
    return head + rng.randbytes(size - len(head) - len(tail)) + tail


def exif_taken(created: str) -> str:
    """The date an original's EXIF holds for a document's ``dates.created`` ("" when unknown)."""
    return "" if not created or created == UNKNOWN_DATE else created


def format_date(epoch: int) -> str:
    """Wall-clock ``YYYY-MM-DD HH:MM:SS`` rendering used for ``dates.created``."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))


# --------------------------------------------------------------------------------------
# model


@dataclass
class User:
    user_id: str
    username: str
    realname: str = ""
    is_pro: int = 0
    alias: str = ""
    lg: str = "en"
    member_since: int = 0
    country: str = ""
    town: str = ""


@dataclass
class Original:
    filename: str
    ext: str
    bytes: int
    md5: str
    secret: str
    content_key: str
    w: int = 0
    h: int = 0
    length: int = 0  # seconds, video/audio only
    taken: str = ""  # EXIF DateTimeOriginal of the file (YYYY-MM-DD HH:MM:SS), "" for none
    rotation: int = 0  # the file's EXIF Orientation, as degrees clockwise

    def content(self) -> bytes:
        return make_content(self.content_key, self.bytes, self.ext, self.w, self.h, self.taken, self.rotation)


@dataclass
class Comment:
    comment_id: str
    user_id: str
    username: str
    posted_at: int
    content: str
    parent_id: str | None = None
    modified_at: int | None = None


@dataclass
class Note:
    note_id: str
    user_id: str
    username: str
    x: int
    y: int
    w: int
    h: int
    content: str
    member_id: str | None = None
    membername: str | None = None


@dataclass
class Doc:
    doc_id: str
    media: str
    title: str
    description: str
    tags: list[dict[str, Any]]
    posted_at: int
    created_at: str
    last_update_at: int
    visibility: dict[str, int]
    safety: int
    license: int
    original: Original
    geo: dict[str, Any] | None = None
    comments: list[Comment] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    rotation: int = 0
    visits: int = 0
    faves: int = 0
    can_download: int = 1
    perm_comment: int = 5
    perm_tag: int = 3
    perm_tagme: int = 3
    thumb_secret: str = ""
    media_secret: str = ""
    album_ids: list[str] = field(default_factory=list)  # kept in sync by Account

    # visibility helpers ------------------------------------------------------------
    @property
    def ispublic(self) -> int:
        return int(self.visibility.get("ispublic", 0))

    @property
    def isfriend(self) -> int:
        return int(self.visibility.get("isfriend", 0))

    @property
    def isfamily(self) -> int:
        return int(self.visibility.get("isfamily", 0))

    @property
    def share(self) -> int:
        """Share code as used by list filters/setters: 0 private, 1 family,
        2 friends, 3 friends & family, 4 public (doc.get renders public as 5)."""
        if self.ispublic:
            return 4
        return (2 if self.isfriend else 0) + (1 if self.isfamily else 0)

    @property
    def last_comment_at(self) -> int:
        return max((c.posted_at for c in self.comments), default=0)

    @property
    def count(self) -> dict[str, int]:
        return {
            "visits": self.visits,
            "faves": self.faves,
            "comments": len(self.comments),
            "notes": len(self.notes),
            "tags": len(self.tags),
            "albums": len(self.album_ids),
            "groups": 0,
        }

    def content(self) -> bytes:
        return self.original.content()


@dataclass
class Album:
    album_id: str
    title: str
    description: str
    doc_ids: list[str]
    created_at: int
    last_update_at: int
    cover_doc_id: str | None = None
    ispublic: int = 1
    perm_comment: int = 5
    visits: int = 0
    folder_id: str | None = None


@dataclass
class Folder:
    folder_id: str
    title: str
    description: str
    album_ids: list[str]
    created_at: int
    last_update_at: int


@dataclass
class Account:
    seed: int
    user: User
    docs: list[Doc]
    albums: list[Album]
    folders: list[Folder] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)  # every known member, owner included
    # Caches that keep a 100,000-document account cheap to serve; rebuilt by reindex() and touch().
    _by_id: dict[str, Doc] = field(default_factory=dict, init=False, repr=False, compare=False)
    _order: tuple[Any, list[Doc]] = field(default=(None, []), init=False, repr=False, compare=False)
    _generation: int = field(default=0, init=False, repr=False, compare=False)

    # look-ups -----------------------------------------------------------------------
    def doc(self, doc_id: str | int) -> Doc:
        key = str(doc_id)
        if len(self._by_id) != len(self.docs):  # docs changed behind reindex()'s back
            self._by_id = {d.doc_id: d for d in self.docs}
        found = self._by_id.get(key)
        if found is not None and found.doc_id == key:
            return found
        for d in self.docs:
            if d.doc_id == key:
                return d
        raise KeyError(key)

    def newest_first(self) -> list[Doc]:
        """Every document, newest posted first (doc.getList's order); cached until the account changes."""
        key = (self._generation, id(self.docs), len(self.docs))
        if self._order[0] != key:
            self._order = (key, sorted(self.docs, key=lambda d: (d.posted_at, int(d.doc_id)), reverse=True))
        return self._order[1]

    def touch(self) -> None:
        """Forget the cached order after an edit that may change it."""
        self._generation += 1

    def album(self, album_id: str | int) -> Album:
        key = str(album_id)
        for a in self.albums:
            if a.album_id == key:
                return a
        raise KeyError(key)

    def folder(self, folder_id: str | int) -> Folder:
        key = str(folder_id)
        for f in self.folders:
            if f.folder_id == key:
                return f
        raise KeyError(key)

    def find_doc(self, doc_id: str | int) -> Doc | None:
        try:
            return self.doc(doc_id)
        except KeyError:
            return None

    def albums_of(self, doc_id: str | int) -> list[Album]:
        key = str(doc_id)
        return [a for a in self.albums if key in a.doc_ids]

    def user_by(self, ident: str) -> User | None:
        """Find a member by user id or by alias/username."""
        if ident in self.users:
            return self.users[ident]
        for u in self.users.values():
            if ident and ident in (u.alias, u.username):
                return u
        return None

    def reindex(self) -> None:
        """Recompute derived fields (doc.album_ids, album covers) after changes."""
        by_id = {d.doc_id: d for d in self.docs}
        self._by_id = by_id
        self.touch()
        for d in self.docs:
            d.album_ids = []
        for a in self.albums:
            a.doc_ids = [i for i in a.doc_ids if i in by_id]
            for i in a.doc_ids:
                by_id[i].album_ids.append(a.album_id)
            if a.cover_doc_id not in a.doc_ids:
                a.cover_doc_id = a.doc_ids[0] if a.doc_ids else None


# --------------------------------------------------------------------------------------
# builder


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _spread(rng: random.Random, n: int, required: list[Any], rest: list[Any],
            weights: list[float]) -> list[Any]:
    """n values: each of ``required`` at least once (as far as n allows), rest weighted."""
    out = [rng.choices(rest, weights)[0] for _ in range(n)]
    slots = rng.sample(range(n), min(n, len(required)))
    for slot, value in zip(slots, required):
        out[slot] = value
    return out


def _dims(rng: random.Random, media: str) -> tuple[int, int]:
    if media == "photo":
        return rng.choice(((4000, 3000), (3000, 4000), (1600, 1200), (2048, 2048), (800, 533)))
    if media == "video":
        return rng.choice(((1920, 1080), (1280, 720), (640, 480)))
    return (0, 0)


def build_account(seed: int = 0, n_docs: int = 150, original_bytes: int | None = None) -> Account:
    """Build the deterministic sandbox account for ``seed``.

    With the default ``n_docs`` (150) every invariant listed in the module docstring
    holds; smaller accounts keep as many of them as fit.  ``original_bytes`` gives every
    original that size (the benchmark's cheap 100,000-document accounts); the rest of the
    account is the same as without it.
    """
    rng = random.Random(f"ipernity-sandbox-account:{seed}")
    n = max(1, int(n_docs))

    owner_id = str(rng.randrange(100000, 999999))
    owner = User(user_id=owner_id, username="sandbox_owner", realname="Sandra Box",
                 is_pro=1, alias="sandbox", lg="en", member_since=1167609600,
                 country="France", town="Paris")
    users = {owner_id: owner}
    commenters: list[User] = []
    for i, (uname, real) in enumerate(_COMMENTERS):
        uid = str(int(owner_id) + 1000 + i * 7919)
        u = User(user_id=uid, username=uname, realname=real, is_pro=i % 2,
                 alias=f"member{i}", member_since=1167609600 + i * 86400)
        users[uid] = u
        commenters.append(u)

    # per-document attributes spread so that every required value appears
    medias = _spread(rng, n, list(MEDIA), list(MEDIA), [80, 10, 5, 5])
    visib = _spread(rng, n, list(VISIBILITY_COMBOS) * 2,
                    list(VISIBILITY_COMBOS), [6, 2, 2, 2, 2, 2, 2, 60])
    licenses = _spread(rng, n, list(LICENSES), list(LICENSES), [40, 8, 8, 8, 8, 8, 8, 4])
    safeties = _spread(rng, n, list(SAFETY), list(SAFETY), [85, 10, 5])
    has_geo = _spread(rng, n, [True, False], [True, False], [30, 70])
    unknown_created = _spread(rng, n, [True, True, True], [True, False], [5, 95])

    title_slots = rng.sample(range(n), min(n, len(HOSTILE_TITLES)))
    hostile_title = dict(zip(title_slots, HOSTILE_TITLES))
    fname_slots = rng.sample(range(n), min(n, len(HOSTILE_FILENAMES)))
    hostile_fname = dict(zip(fname_slots, HOSTILE_FILENAMES))

    docs: list[Doc] = []
    doc_id = rng.randrange(1_000_000, 5_000_000)
    posted = 1199145600 + rng.randrange(0, 30 * 86400)  # January 2008
    tag_id = 500000
    for i in range(n):
        doc_id += rng.randrange(1, 5000)
        posted += rng.randrange(3600, 15 * 86400)
        media = medias[i]
        ext = rng.choice(EXTENSIONS[media])
        w, h = _dims(rng, media)
        length = rng.randrange(3, 600) if media in ("video", "audio") else 0
        size = rng.randrange(1024, 30 * 1024 + 1)
        if original_bytes is not None:
            size = original_bytes
        key = f"{seed}:{doc_id}"
        if i in hostile_fname:
            filename = hostile_fname[i]
        elif media == "photo":
            filename = rng.choice(("IMG_{:04d}.{}", "DSC{:05d}.{}", "P{:07d}.{}")).format(
                rng.randrange(10000), ext.upper() if rng.random() < 0.5 else ext)
        else:
            filename = f"{rng.choice(_NOUN)} {media} {i}.{ext}"
        secret = _hex(rng, 8)

        if i in hostile_title:
            title = hostile_title[i]
        elif rng.random() < 0.15:
            title = filename.rsplit(".", 1)[0]
        else:
            title = f"{rng.choice(_ADJ)} {rng.choice(_NOUN)}"
        description = rng.choice(_DESCRIPTIONS)

        tags: list[dict[str, Any]] = []
        for _ in range(rng.choice((0, 0, 1, 2, 3, 5))):
            pool = rng.choices((_KEYWORDS, _MULTIWORD, _MACHINE), (70, 15, 15))[0]
            text = rng.choice(pool)
            if any(t["tag"] == text for t in tags):
                continue
            tag_id += rng.randrange(1, 50)
            tags.append({"id": str(tag_id), "type": "machine" if pool is _MACHINE else "keyword",
                         "tag": text, "user_id": owner_id, "added_at": posted + 60})

        if unknown_created[i]:
            created = UNKNOWN_DATE
        else:
            created = format_date(posted - rng.randrange(0, 3 * 365 * 86400))
        geo = None
        if has_geo[i]:
            lat, lng, loc = rng.choice(_PLACES)
            geo = {"lat": round(lat + rng.uniform(-0.05, 0.05), 6),
                   "lng": round(lng + rng.uniform(-0.05, 0.05), 6)}
            if loc:
                geo["location"] = loc
            geo["loc_id"] = str(rng.randrange(1000, 99999))
        pub, fr, fa = visib[i]
        last_update = posted + (rng.randrange(60, 400 * 86400) if rng.random() < 0.4 else 0)
        rotation = rng.choice((0, 0, 0, 90, 180, 270)) if media == "photo" else 0
        taken = exif_taken(created)
        fewest = real_media.smallest(key, ext.lower(), w, h, taken, rotation)
        if original_bytes is None and size < fewest:  # too small for a real file: grow, keeping sizes apart
            size += fewest
        body = make_content(key, size, ext, w, h, taken, rotation)
        original = Original(filename=filename, ext=ext, bytes=size, md5=hashlib.md5(body).hexdigest(),
                            secret=secret, content_key=key, w=w, h=h, length=length, taken=taken,
                            rotation=rotation)
        docs.append(Doc(
            doc_id=str(doc_id), media=media, title=title, description=description, tags=tags,
            posted_at=posted, created_at=created, last_update_at=last_update,
            visibility={"ispublic": pub, "isfriend": fr, "isfamily": fa},
            safety=safeties[i], license=licenses[i], original=original, geo=geo,
            rotation=rotation,
            visits=rng.randrange(0, 500), faves=rng.randrange(0, 20),
            can_download=1 if rng.random() < 0.8 else 0,
            perm_comment=rng.choice((0, 3, 4, 5, 5)), perm_tag=rng.choice((0, 3, 4)),
            perm_tagme=rng.choice((0, 3, 4)), thumb_secret=_hex(rng, 8), media_secret=_hex(rng, 8),
        ))

    # make sure multi-word keyword and machine tags exist
    for text, kind in (("new york", "keyword"), ("geo:country=fr", "machine")):
        if not any(t["tag"] == text for d in docs for t in d.tags):
            d = docs[rng.randrange(n)]
            tag_id += 1
            d.tags.append({"id": str(tag_id), "type": kind, "tag": text, "user_id": owner_id,
                           "added_at": d.posted_at + 60})

    _add_comments(rng, docs, owner, commenters)
    _add_notes(rng, docs, owner, commenters)
    albums, folders = _add_albums(rng, docs, n)
    account = Account(seed=seed, user=owner, docs=docs, albums=albums, folders=folders, users=users)
    account.reindex()
    return account


def _add_comments(rng: random.Random, docs: list[Doc], owner: User, others: list[User]) -> None:
    n = len(docs)
    comment_id = 7_000_000 + rng.randrange(100000)
    # the big thread goes to a public document so that anonymous callers see it too
    public = [i for i, d in enumerate(docs) if d.ispublic] or list(range(n))
    big = rng.choice(public)
    few = rng.sample([i for i in range(n) if i != big], min(n - 1, 12))
    plan = {big: rng.randrange(110, 140)}
    for i in few:
        plan[i] = rng.randrange(1, 7)
    people = others + [owner]
    for i, count in plan.items():
        d = docs[i]
        t = d.posted_at
        for k in range(count):
            comment_id += rng.randrange(1, 40)
            t += rng.randrange(30, 3 * 86400)
            who = rng.choice(people)
            parent = None
            if d.comments and rng.random() < 0.3:
                parent = rng.choice(d.comments).comment_id
            modified = t + rng.randrange(400, 86400) if rng.random() < 0.15 else None
            text = rng.choice(_COMMENT_TEXTS) if k % 7 else f"Comment #{k + 1}: {rng.choice(_COMMENT_TEXTS)}"
            d.comments.append(Comment(comment_id=str(comment_id), user_id=who.user_id,
                                      username=who.username, posted_at=t, content=text,
                                      parent_id=parent, modified_at=modified))
        if d.comments:
            # make sure the document has at least one reply and one edited comment
            if len(d.comments) > 1 and not any(c.parent_id for c in d.comments):
                d.comments[-1].parent_id = d.comments[0].comment_id
            if i == big and not any(c.modified_at for c in d.comments):
                d.comments[1].modified_at = d.comments[1].posted_at + 600


def _add_notes(rng: random.Random, docs: list[Doc], owner: User, others: list[User]) -> None:
    photos = [d for d in docs if d.media == "photo"]
    note_id = 30000
    for d in rng.sample(photos, min(len(photos), 5)):
        for _ in range(rng.randrange(1, 4)):
            note_id += rng.randrange(1, 9)
            who = rng.choice(others + [owner])
            member = rng.choice(others) if rng.random() < 0.4 else None
            d.notes.append(Note(
                note_id=str(note_id), user_id=who.user_id, username=who.username,
                x=rng.randrange(0, 400), y=rng.randrange(0, 300), w=rng.randrange(20, 160),
                h=rng.randrange(20, 160),
                content=member.username if member else rng.choice(("Look here", "<b>me</b> & you", "\u2764")),
                member_id=member.user_id if member else None,
                membername=member.username if member else None))


def _add_albums(rng: random.Random, docs: list[Doc], n: int) -> tuple[list[Album], list[Folder]]:
    ids = [d.doc_id for d in docs]
    # a handful of documents stay outside every album
    lonely = set(rng.sample(ids, min(len(ids) // 10 + 1, max(0, len(ids) - 1))))
    pool = [i for i in ids if i not in lonely]

    specs: list[tuple[str, list[str]]] = []
    big = rng.sample(pool, min(len(pool), 110))  # own order, not posting order
    specs.append((BIG_ALBUM_TITLE, big))
    specs.append((DUPLICATE_ALBUM_TITLE, rng.sample(pool, min(len(pool), 7))))
    specs.append((DUPLICATE_ALBUM_TITLE, rng.sample(pool, min(len(pool), 4))))
    specs.append((EMPTY_ALBUM_TITLE, []))
    for title in HOSTILE_ALBUM_TITLES:
        specs.append((title, rng.sample(pool, min(len(pool), rng.randrange(1, 6)))))
    specs.append(("Cats & dogs", rng.sample(pool, min(len(pool), 12))))

    albums: list[Album] = []
    album_id = 20000 + rng.randrange(5000)
    first_post = docs[0].posted_at
    last_post = docs[-1].posted_at
    for k, (title, members) in enumerate(specs):
        album_id += rng.randrange(1, 300)
        created = first_post + (last_post - first_post) * k // max(1, len(specs))
        albums.append(Album(
            album_id=str(album_id), title=title,
            description=rng.choice(("", "Album description.", "<b>HTML</b> album &amp; text",
                                    "Caf\u00e9 \U0001f4f7 album\nsecond line")),
            doc_ids=list(members), created_at=created,
            last_update_at=created + rng.randrange(0, 200 * 86400),
            cover_doc_id=rng.choice(members) if members else None,
            ispublic=0 if title == "Cats & dogs" else 1,
            perm_comment=rng.choice((0, 3, 5)), visits=rng.randrange(0, 300)))
    # the owner's album list order is neither creation nor title order
    rng.shuffle(albums)

    folders = []
    holidays = [a for a in albums if a.title == DUPLICATE_ALBUM_TITLE]
    if holidays:
        folders.append(Folder(folder_id="9001", title="Travel", description="Trips",
                              album_ids=[a.album_id for a in holidays], created_at=first_post,
                              last_update_at=last_post))
        for a in holidays:
            a.folder_id = "9001"
    hostile = [a for a in albums if a.title in HOSTILE_ALBUM_TITLES][:3]
    if hostile:
        folders.append(Folder(folder_id="9002", title="../weird/folder", description="",
                              album_ids=[a.album_id for a in hostile], created_at=first_post,
                              last_update_at=last_post))
        for a in hostile:
            a.folder_id = "9002"
    return albums, folders
