"""Ground-truth invariants of the default sandbox account."""

import hashlib
import re
import unicodedata

import pytest
from migrator_ipernity.sandbox import (
    HOSTILE_ALBUM_TITLES,
    HOSTILE_FILENAMES,
    HOSTILE_TITLES,
    build_account,
)
from migrator_ipernity.sandbox.account import LICENSES, MEDIA, UNKNOWN_DATE, VISIBILITY_COMBOS

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.fixture(scope="module")
def acc():
    return build_account(0)


def test_size_and_posting_order(acc):
    assert len(acc.docs) == 150
    posted = [d.posted_at for d in acc.docs]
    assert all(a < b for a, b in zip(posted, posted[1:]))
    ids = [d.doc_id for d in acc.docs]
    assert len(set(ids)) == len(ids) and all(i.isdigit() for i in ids)


def test_user(acc):
    u = acc.user
    assert u.user_id.isdigit() and u.username and u.realname and u.is_pro in (0, 1)


def test_media_visibility_license_safety_all_present(acc):
    assert {d.media for d in acc.docs} == set(MEDIA)
    combos = {(d.ispublic, d.isfriend, d.isfamily) for d in acc.docs}
    assert combos == set(VISIBILITY_COMBOS)
    assert {d.license for d in acc.docs} == set(LICENSES)
    assert {d.safety for d in acc.docs} == {1, 2, 3}


def test_share_code_consistent(acc):
    for d in acc.docs:
        expected = 4 if d.ispublic else (2 if d.isfriend else 0) + (1 if d.isfamily else 0)
        assert d.share == expected


def test_dates(acc):
    unknown = [d for d in acc.docs if d.created_at == UNKNOWN_DATE]
    assert unknown
    for d in acc.docs:
        assert d.created_at == UNKNOWN_DATE or DATE_RE.match(d.created_at)
        assert d.last_update_at >= d.posted_at


def test_geo_on_some_docs(acc):
    with_geo = [d for d in acc.docs if d.geo]
    assert 0 < len(with_geo) < len(acc.docs)
    for d in with_geo:
        assert -90 <= d.geo["lat"] <= 90 and -180 <= d.geo["lng"] <= 180


def test_tags(acc):
    tags = [t for d in acc.docs for t in d.tags]
    kinds = {t["type"] for t in tags}
    assert kinds == {"keyword", "machine"}
    texts = {t["tag"] for t in tags}
    assert any(" " in t for t in texts if ":" not in t), "multi-word keyword"
    assert "new york" in texts
    assert any(re.match(r"^[a-z]+:[a-z]+=.+$", t) for t in texts), "machine tag"
    assert "geo:country=fr" in texts


def test_originals_sizes_md5_and_determinism(acc):
    for d in acc.docs[:40]:
        data = d.original.content()
        assert len(data) == d.original.bytes
        assert 1024 <= d.original.bytes <= 30 * 1024
        assert hashlib.md5(data).hexdigest() == d.original.md5
        assert d.original.ext and re.match(r"^[0-9a-f]{8}$", d.original.secret)
    assert acc.docs[0].content() == acc.docs[0].content()


def test_comments(acc):
    counts = sorted((len(d.comments) for d in acc.docs), reverse=True)
    assert counts[0] > 100
    assert counts[1] < 100 and counts[1] > 0
    assert sum(1 for c in counts if 0 < c <= 10) >= 3
    assert sum(1 for c in counts if c == 0) > len(acc.docs) / 2
    comments = [c for d in acc.docs for c in d.comments]
    assert any(c.parent_id for c in comments)
    assert any(c.modified_at for c in comments)
    for d in acc.docs:
        ids = {c.comment_id for c in d.comments}
        for c in d.comments:
            assert c.posted_at > d.posted_at
            assert c.parent_id is None or c.parent_id in ids


def test_notes(acc):
    noted = [d for d in acc.docs if d.notes]
    assert 0 < len(noted) < 10
    assert all(d.media == "photo" for d in noted)


def test_albums(acc):
    sizes = [len(a.doc_ids) for a in acc.albums]
    assert max(sizes) > 100
    assert 0 in sizes
    titles = [a.title for a in acc.albums]
    assert any(titles.count(t) > 1 for t in titles), "duplicate album title"
    for t in HOSTILE_ALBUM_TITLES:
        assert t in titles, repr(t)
    in_albums = {i for a in acc.albums for i in a.doc_ids}
    assert any(d.doc_id not in in_albums for d in acc.docs), "doc in no album"
    assert any(len(d.album_ids) > 1 for d in acc.docs), "doc in several albums"
    posting = {d.doc_id: n for n, d in enumerate(acc.docs)}
    big = max(acc.albums, key=lambda a: len(a.doc_ids))
    order = [posting[i] for i in big.doc_ids]
    assert order != sorted(order) and order != sorted(order, reverse=True), "album has its own order"
    list_ids = [int(a.album_id) for a in acc.albums]
    assert list_ids != sorted(list_ids)
    for a in acc.albums:
        assert (a.cover_doc_id is None) == (not a.doc_ids)
        assert a.cover_doc_id is None or a.cover_doc_id in a.doc_ids
        assert a.last_update_at >= a.created_at


def test_count_fields_consistent(acc):
    for d in acc.docs:
        assert d.count["comments"] == len(d.comments)
        assert d.count["albums"] == len(acc.albums_of(d.doc_id))
        assert d.count["tags"] == len(d.tags)
        assert d.count["notes"] == len(d.notes)


def test_hostile_names_present(acc):
    titles = [d.title for d in acc.docs]
    filenames = [d.original.filename for d in acc.docs]
    for t in HOSTILE_TITLES:
        assert t in titles, repr(t)
    for f in HOSTILE_FILENAMES:
        assert f in filenames, repr(f)
    for names in (titles, filenames):
        assert any("/" in n for n in names)
        assert ".." in names
        assert any("../../etc/passwd" in n for n in names)
        nfc = [n for n in names if n.startswith("Caf\u00e9")]
        nfd = [n for n in names if n.startswith("Cafe\u0301")]
        assert nfc and nfd
        assert unicodedata.normalize("NFC", nfd[0]) == nfc[0]
        assert any(any(ord(ch) > 0xFFFF for ch in n) for n in names), "emoji"
        assert any(len(n) > 300 for n in names)
        assert "" in names
        assert any(any(ord(ch) < 32 or ord(ch) == 127 for ch in n) for n in names)
        assert "CON" in names and "aux.txt" in names
        assert any(n != n.strip() and n.strip() for n in names), "leading/trailing spaces"
        assert any(n.rstrip(" ").endswith(".") and n not in ("..",) for n in names), "trailing dots"
    assert filenames.count("IMG_0001.JPG") >= 2


def test_lookup_helpers(acc):
    d = acc.docs[17]
    assert acc.doc(d.doc_id) is d
    assert acc.doc(int(d.doc_id)) is d
    a = acc.albums[3]
    assert acc.album(a.album_id) is a
    with pytest.raises(KeyError):
        acc.doc("1")
    with pytest.raises(KeyError):
        acc.album("1")


def test_determinism():
    a, b, c = build_account(7), build_account(7), build_account(8)
    assert a == b
    assert a.docs[5].content() == b.docs[5].content()
    assert a != c
    assert [d.doc_id for d in a.docs] != [d.doc_id for d in c.docs]


def test_small_account_builds():
    small = build_account(3, n_docs=10)
    assert len(small.docs) == 10
    assert {i for a in small.albums for i in a.doc_ids} <= {d.doc_id for d in small.docs}
