"""Listing logic shared by both backends: sort parsing, the keyset cursor codec, paging.

Both backends order rows by `(sort value, id)` in one direction and page with the same cursor,
so a page served by memory and one served by PostgreSQL are identical. A cursor names the sort it
was made for and the last row's key; rows inserted between two pages never shift the next page.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from interview_shared.projections import utc

from interview_store.port import SORT_FIELDS, InvalidQueryError, ListQuery, Page

SortValue = datetime | str | float
"""The value of a sort field: a timestamp, a text or a score."""

NULL_SCORE = -1.0
"""Where an evaluation without a score (UNSCORABLE) sorts: below every real score (0..100)."""

TEXT_FIELDS = frozenset({"title", "name"})
FLOAT_FIELDS = frozenset({"score"})

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sort:
    """A parsed `sort` parameter: one field, one direction, ties broken by id."""

    field: str
    descending: bool

    @property
    def text(self) -> str:
        """The sort as the client writes it (`-created_at`)."""
        return f"-{self.field}" if self.descending else self.field


@dataclass(frozen=True, slots=True)
class Position:
    """The key of the last row of a page: rows strictly after it come next."""

    value: SortValue
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ListRequest:
    """A validated listing request, ready for a backend to run."""

    listing: str
    sort: Sort
    after: Position | None
    offset: int
    limit: int

    @property
    def fetch(self) -> int:
        """How many rows to fetch: one more than the page, to know whether a next page exists."""
        return self.limit + 1


def parse_sort(listing: str, sort: str) -> Sort:
    """Parse `field` or `-field`, rejecting fields the listing cannot sort on."""
    descending = sort.startswith("-")
    field = sort[1:] if descending else sort
    if field not in SORT_FIELDS[listing]:
        allowed = ", ".join(sorted(SORT_FIELDS[listing]))
        raise InvalidQueryError(f"cannot sort {listing} by {sort!r}; use one of: {allowed}")
    return Sort(field, descending)


def prepare(listing: str, query: ListQuery) -> ListRequest:
    """Validate a listing query: sort field, cursor, and that cursor and offset are exclusive."""
    sort = parse_sort(listing, query.sort)
    if query.cursor is not None and query.offset:
        raise InvalidQueryError("use either cursor or offset, not both")
    after = decode_cursor(query.cursor, listing, sort) if query.cursor is not None else None
    return ListRequest(
        listing=listing, sort=sort, after=after, offset=query.offset, limit=query.limit
    )


def encode_cursor(listing: str, sort: Sort, position: Position) -> str:
    """Encode the position after which the next page starts, for this listing and sort only."""
    value = position.value
    raw = value.isoformat() if isinstance(value, datetime) else value
    payload = json.dumps([listing, sort.text, raw, str(position.id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, listing: str, sort: Sort) -> Position:
    """Decode a cursor made by `encode_cursor` for the same listing and sort.

    Raises InvalidQueryError for anything else.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        made_for, sort_text, raw, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if (made_for, sort_text) != (listing, sort.text):
            raise InvalidQueryError("the cursor was made for another listing or sort")
        return Position(_decode_value(sort.field, raw), uuid.UUID(row_id))
    except InvalidQueryError:
        raise
    except (ValueError, TypeError, AttributeError, binascii.Error) as exc:
        raise InvalidQueryError("malformed cursor") from exc


def _decode_value(field: str, raw: object) -> SortValue:
    if field in TEXT_FIELDS:
        if not isinstance(raw, str):
            raise TypeError("text sort value expected")
        return raw
    if field in FLOAT_FIELDS:
        # bool is an int subclass; a cursor never holds one.
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise TypeError("numeric sort value expected")
        return float(raw)
    if not isinstance(raw, str):
        raise TypeError("timestamp sort value expected")
    return utc(datetime.fromisoformat(raw))


def page(rows: Sequence[T], request: ListRequest, key: Callable[[T], Position]) -> Page[T]:
    """Cut a fetched run of `limit + 1` rows into a page, with a cursor when more rows follow."""
    items = tuple(rows[: request.limit])
    more = len(rows) > request.limit
    cursor = (
        encode_cursor(request.listing, request.sort, key(items[-1])) if more and items else None
    )
    return Page[T](items=items, next_cursor=cursor)


def score_key(score: float | None) -> float:
    """The sort value of a score: NULL sorts as NULL_SCORE on both backends."""
    return NULL_SCORE if score is None else score


def sort_value(row: object, field: str) -> SortValue:
    """The value a read model sorts by under `field` (a NULL score sorts as NULL_SCORE)."""
    value = getattr(row, field)
    if field in FLOAT_FIELDS:
        return score_key(value)
    assert isinstance(value, datetime | str)
    return value


def position(row: object, field: str) -> Position:
    """The cursor position of a read model that has an `id`."""
    row_id = getattr(row, "id")  # noqa: B009 - any read model with an id
    assert isinstance(row_id, uuid.UUID)
    return Position(sort_value(row, field), row_id)
