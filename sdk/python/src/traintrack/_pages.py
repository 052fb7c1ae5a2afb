"""Lazy iteration over the pages of a List call, as every list of the SDK does it."""

from __future__ import annotations

from typing import Any, Callable, Iterator, TypeVar

T = TypeVar("T")


def paged(fetch: Callable[[str], Any], items: Callable[[Any], Any], convert: Callable[[Any], T]) -> Iterator[T]:
    """Yields ``convert(item)`` for every item of every page; ``fetch(token)`` gets one page.

    The next page is fetched only when the iterator reaches it, and iteration ends
    on the page whose ``next_page_token`` is empty.
    """
    token = ""
    while True:
        page = fetch(token)
        for item in items(page):
            yield convert(item)
        token = page.next_page_token
        if not token:
            return
