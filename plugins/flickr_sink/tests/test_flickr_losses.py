"""The flickr sink's loss ledger rules (`losses.py`), record by record; the ledger through the CLI is in
tests/test_chain_rotation_ledger.py."""

from __future__ import annotations

from migrator_flickr.losses import losses
from migrator_flickr.mapping import document as flickr_document

from migrator import Comment, Container, Document, FileInfo, Geo, Loss, Note, Visibility

KEEP = {"comments": "keep", "privacy": "keep"}


def fields(doc: Document, **config: str) -> dict[str | None, str]:
    return {loss.field: loss.reason for loss in losses(doc, {**KEEP, **config}, {})}


def test_documents_it_skips():
    for media in ("audio", "other"):
        assert losses(Document("s", "1", media=media), KEEP, {}) == [
            Loss(f"Flickr takes only photos and videos, not {media}")]
    big = Document("s", "1", file=FileInfo(size=300))
    assert losses(big, KEEP, {"filesize": {"maxbytes": "200"}}) == [Loss("bigger than Flickr's limit for a photo")]
    assert losses(Document("s", "1"), KEEP, {}) == []


def test_fields_it_drops_or_changes():
    doc = Document("s", "1", media="video", comments=[Comment("c", "ann", None, "hi")], notes=[Note("n", "bo", "x")],
                   license="copyleft", taken_at="2020-01-02T00:00:00", taken_granularity="day",
                   geo=Geo(1.0, 2.0, 16), rotation=90, visibility=Visibility(public=True))
    assert set(fields(doc)) == {"comments", "notes", "license", "taken_granularity", "geo.accuracy", "rotation"}
    assert "posts comments only as the account's owner" in fields(doc)["comments"]
    assert "as text" in fields(doc, comments="description")["comments"]
    assert "comments" not in fields(doc, comments="off")
    assert "visibility" in fields(doc, privacy="private")
    assert "tags" in fields(Document("s", "1", tags=['say "hi"']))
    assert "tags" not in fields(Document("s", "1", tags=["a b"]))
    assert "license" not in fields(Document("s", "1", license="CC-BY-2.0"))
    assert "license" in fields(Document("s", "1", license="no-known-copyright"))  # code 7 cannot be set


def test_containers():
    assert losses(Container("collection", "s", "c"), KEEP, {}) == [Loss("Flickr's API cannot create collections")]
    assert losses(Container("album", "s", "a"), KEEP, {}) == [Loss("Flickr cannot hold an empty set")]
    assert losses(Container("album", "s", "a", members=["1"]), KEEP, {}) == [
        Loss("Flickr requires a set title: 'untitled' is used", "title")]
    assert losses(Container("album", "s", "a", title="Trip", members=["1"]), KEEP, {}) == []


def test_the_flickr_source_maps_rotation():
    info = {"id": "5", "rotation": 270, "dates": {"posted": "1600000000", "lastupdate": "1600000000"}}
    assert flickr_document({"id": "5"}, info, None, None, [], None).rotation == 270
    assert flickr_document({"id": "5", "rotation": "90"}, None, None, None, [], None).rotation == 90
    assert flickr_document({"id": "5"}, {"id": "5", "rotation": "45"}, None, None, [], None).rotation == 0
