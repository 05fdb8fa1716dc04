"""The one pager: page counts, short pages asked again, answers merged, a total that changes."""

from __future__ import annotations

from migrator.service import Page, latest, read_pages


class Listing:
    """A fake paged service: `answers[n]` is the list of answers page n gives, one per request (the last
    one repeats); each answer is (item ids, pages, total)."""

    def __init__(self, answers: dict[int, list[tuple[list[str], int, int | None]]]) -> None:
        self.answers, self.asked = answers, []

    def read(self, number: int) -> Page:
        self.asked.append(number)
        queue = self.answers[number]
        ids, pages, total = queue.pop(0) if len(queue) > 1 else queue[0]
        return Page(number, {"page": number}, [{"id": i} for i in ids], pages, total)


def ids(pages) -> list[str]:
    return [item["id"] for page in pages for item in page.items]


def test_pages_are_read_until_the_announced_count():
    listing = Listing({1: [(["a", "b"], 2, 3)], 2: [(["c"], 2, 3)]})
    assert ids(read_pages(listing.read, 2)) == ["a", "b", "c"] and listing.asked == [1, 2]


def test_an_empty_page_ends_the_listing_early():
    listing = Listing({1: [(["a", "b"], 5, None)], 2: [([], 5, None)]})
    assert ids(read_pages(listing.read, 2)) == ["a", "b"] and listing.asked == [1, 2]


def test_without_tries_a_short_page_is_taken_as_it_is():
    listing = Listing({1: [(["a"], 2, 4)], 2: [(["c", "d"], 2, 4)]})
    assert ids(read_pages(listing.read, 2)) == ["a", "c", "d"] and listing.asked == [1, 2]


def test_a_short_page_is_asked_again_up_to_the_tries():
    listing = Listing({1: [(["a"], 2, 4), (["a"], 2, 4), (["a", "b"], 2, 4)], 2: [(["c", "d"], 2, 4)]})
    assert ids(read_pages(listing.read, 2, tries=3)) == ["a", "b", "c", "d"]
    assert listing.asked == [1, 1, 1, 2]
    stubborn = Listing({1: [(["a"], 2, 4)], 2: [(["c", "d"], 2, 4)]})
    assert ids(read_pages(stubborn.read, 2, tries=3)) == ["a", "c", "d"] and stubborn.asked == [1, 1, 1, 2]


def test_the_last_page_may_be_short_without_a_total():
    listing = Listing({1: [(["a", "b"], 2, None)], 2: [(["c"], 2, None)]})
    assert ids(read_pages(listing.read, 2, tries=3)) == ["a", "b", "c"] and listing.asked == [1, 2]


def test_the_last_page_is_asked_again_when_the_total_says_it_is_short():
    listing = Listing({1: [(["a", "b"], 2, 4)], 2: [(["c"], 2, 4), (["c", "d"], 2, 4)]})
    assert ids(read_pages(listing.read, 2, tries=2)) == ["a", "b", "c", "d"] and listing.asked == [1, 2, 2]


def test_a_repeated_answer_that_comes_back_empty_keeps_the_earlier_items():
    listing = Listing({1: [(["a"], 2, 4), ([], 2, 4)], 2: [(["c", "d"], 2, 4)]})
    assert ids(read_pages(listing.read, 2, tries=2)) == ["a", "c", "d"] and listing.asked == [1, 1, 2]


def test_a_total_that_changes_is_followed():
    """New items arrive while listing: the latest answer's page count and total decide."""
    listing = Listing({1: [(["a", "b"], 1, 2)], 2: [(["c"], 2, 3)]})
    assert ids(read_pages(listing.read, 2)) == ["a", "b"]  # page 1 said it was the only one
    growing = Listing({1: [(["a", "b"], 2, 3)], 2: [(["c", "d"], 3, 6)], 3: [(["e", "f"], 3, 6)]})
    assert ids(read_pages(growing.read, 2)) == list("abcdef") and growing.asked == [1, 2, 3]
    shrinking = Listing({1: [(["a", "b"], 3, 6)], 2: [(["c", "d"], 2, 4)], 3: [(["x"], 3, 6)]})
    assert ids(read_pages(shrinking.read, 2)) == list("abcd") and shrinking.asked == [1, 2]


def test_a_merge_decides_what_a_page_holds_and_when_it_is_settled():
    def union(answers: list[Page]) -> tuple[Page, bool]:
        seen = {item["id"]: item for answer in answers for item in answer.items}
        return Page(answers[-1].number, answers[-1].block, list(seen.values()), answers[-1].pages,
                    answers[-1].total), len(answers) >= 2

    listing = Listing({1: [(["a"], 1, 2), (["b"], 1, 2), (["a", "b"], 1, 2)]})
    assert ids(read_pages(listing.read, 2, tries=4, merge=union)) == ["a", "b"] and listing.asked == [1, 1]


def test_latest_is_the_newest_answer():
    first, second = Page(1, {}, [{"id": "a"}], 2, None), Page(1, {"x": 1}, [{"id": "b"}], 3, 9)
    assert latest([first, second]) == (second, True)
    assert latest([first, Page(1, {}, [], 3, 9)])[0].items == [{"id": "a"}]
