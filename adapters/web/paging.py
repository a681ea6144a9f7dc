"""The one pager of every list, in the JSON API and the pages alike.

A list is read a page at a time with ``offset`` (the rows to skip, default 0) and
``limit`` (the rows of a page, default 50, at most 500), checked here: anything else is a
400 naming the parameter. Its answer says ``total`` (every row the filters match),
``offset`` and ``limit`` beside the rows; the views count and page in the database
(``LIMIT``/``OFFSET`` with a ``COUNT``), never in Python, except for a list held whole
already (a case file's timeline, a plan's drawn organizations and its published results,
an account's tokens, the work queue merged from several views): ``paged_list``.
``PAGING`` declares the two parameters for the OpenAPI document
(``@query(**PAGING, ...)``), and the pages' pager (templates/_pager.html) links to the
other pages with ``page_url``, which keeps every other argument of the request: the
filters survive paging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlencode

from flask import Flask, request

from adapters.web.requests import int_arg

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 10 ** 7

PAGING = {
    "offset": ({"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
               "rows to skip: the page starts after them (default 0)"),
    "limit": ({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
               "default": DEFAULT_LIMIT},
              f"rows in the page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}); the answer's "
              "total counts every row the filters match"),
}


@dataclass(frozen=True)
class Window:
    """Which rows of a list a request asks for."""

    offset: int = 0
    limit: int = DEFAULT_LIMIT


def window(args: Mapping[str, str]) -> Window:
    """``offset`` and ``limit`` of the request, checked (400 on a bad value)."""
    return Window(offset=int_arg(args, "offset", 0, 0, MAX_OFFSET),
                  limit=int_arg(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT))


def paged(name: str, total: int, rows: list, at: Window, **more: Any) -> dict:
    """A page of a list as the API answers it: the total, the window and the rows."""
    return {**more, "total": total, "offset": at.offset, "limit": at.limit, name: rows}


def paged_list(name: str, rows: list, at: Window, **more: Any) -> dict:
    """A page of a list already held whole (a document's own list, a list merged from
    several views), as ``paged`` answers it."""
    return paged(name, len(rows), rows[at.offset:at.offset + at.limit], at, **more)


def url_with(**changed: Any) -> str:
    """This page's URL with some arguments changed (None or 0 leaves one out), every
    other kept."""
    args = request.args.to_dict(flat=False)
    for name, value in changed.items():
        args.pop(name, None)
        if value:
            args[name] = [str(value)]
    return request.path + ("?" + urlencode(args, doseq=True) if args else "")


def page_url(offset: int) -> str:
    """This page's URL at another offset, with every filter kept (the language too is
    left to the reader's choice, kept in a cookie)."""
    return url_with(offset=max(offset, 0), lang=None)


def register(app: Flask) -> None:
    app.jinja_env.globals.update(page_url=page_url, url_with=url_with)
