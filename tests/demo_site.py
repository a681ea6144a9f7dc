"""A small demo district behind the web application, for tests that walk its pages: the
demo loaded once (accounts, network, rules, proposals), every read model caught up, and
a signed-in test client per demo account."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser

import psycopg

from adapters.bootstrap import build_casefiles
from adapters.config import postgres_settings_from_url
from adapters.runtime.catch_up import catch_up
from adapters.runtime.registry import READ_MODELS
from adapters.seed.demo import DEMO_ACCOUNTS, load_demo_once
from adapters.web import close_app, create_app
from tests.conftest import CIPHER_KEY, PSEUDONYM_KEY
from tests.support import post_signin

ORGS, YEARS, SEED = 60, 3, 2024


@dataclass
class DemoSite:
    web: object
    casefiles: object
    passwords: dict[str, str]
    tokens: dict[str, str]
    usernames: list[str] = field(default_factory=list)

    def client(self, username: str | None, lang: str = "zh"):
        """A browser-like client, signed in as ``username`` (None: anonymous), reading
        the pages in ``lang``."""
        client = self.web.test_client()
        client.set_cookie("lang", lang)
        if username is not None:
            answer = post_signin(client, {"username": username, "next": "/",
                                          "password": self.passwords[username]})
            assert answer.status_code == 302, answer.text
        return client


def open_demo_site(database_url: str):
    """Yield a DemoSite on a fresh schema, dropped afterwards (a generator for a
    module-scoped fixture)."""
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres",
           "APPLICATION_RECORDER_TOPIC": "adapters.store.recorder:CaseFileRecorder",
           "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": CIPHER_KEY,
           "PSEUDONYM_KEY": PSEUDONYM_KEY, "POSTGRES_SCHEMA": schema,
           "POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "30",
           **postgres_settings_from_url(database_url)}
    casefiles = build_casefiles(env=env)
    lines: list[str] = []
    tokens = load_demo_once(casefiles, lines.append, orgs=ORGS, years=YEARS, seed=SEED,
                            progress=False)
    passwords = dict(re.findall(r"^\s+(demo-[a-z]+)\s.*password: (\S+)$", "\n".join(lines),
                                re.M))
    for name in READ_MODELS:
        catch_up(env, name)
    web = create_app({"CASEFILES": casefiles, "TESTING": True})
    try:
        yield DemoSite(web, casefiles, passwords, tokens,
                       [a.username for a in casefiles.list_accounts()])
    finally:
        close_app(web)
        casefiles.close()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


DEMO_USERS = [a[0] for a in DEMO_ACCOUNTS]


# ------------------------------------------------------------------- reading pages

class Page(HTMLParser):
    """What a reader sees of a page: its text nodes (and the texts of the attributes a
    reader sees: title, placeholder, aria-label, alt), without scripts, styles, literal
    identifiers (``<code>``) and passages marked as another language (``lang="en"`` on
    a Chinese page: the language switch); and its links."""

    VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self, html: str, lang: str):
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.texts: list[str] = []
        self.links: list[str] = []
        self.rows = 0  # the rows of the listed items (<tr class="item">)
        self.declared: str | None = None  # the language the page says it is in
        self.items: list[str | None] = []  # each listed item's first link
        self.rel: dict[str, str] = {}  # the pager's links: first, prev, next, last
        self.pager: dict[str, int] = {}  # the pager's total, offset and limit
        self._in_item = False
        self._open: list[tuple[str, bool]] = []  # (tag, its text is hidden)
        self.feed(html)
        self.close()

    def _hidden(self) -> bool:
        return bool(self._open) and self._open[-1][1]

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
            if attributes.get("rel"):
                self.rel[attributes["rel"]] = attributes["href"]
            if self._in_item and self.items and self.items[-1] is None:
                self.items[-1] = attributes["href"]
        if tag == "tr":
            self._in_item = "item" in (attributes.get("class") or "").split()
            if self._in_item:
                self.rows += 1
                self.items.append(None)
        if tag == "nav" and "pager" in (attributes.get("class") or ""):
            self.pager = {k[len("data-"):]: int(x) for k, x in attributes.items()
                          if k.startswith("data-")}
        if tag == "html":
            self.declared = attributes.get("lang")
            attributes.pop("lang", None)
        hidden = self._hidden() or tag in ("script", "style", "code") or \
            (attributes.get("lang") or self.lang).split("-")[0] != self.lang
        if not hidden:
            self.texts += [attributes[name] for name in self.VISIBLE_ATTRIBUTES
                           if attributes.get(name)]
        if tag not in self.VOID:
            self._open.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._in_item = False
        for i in range(len(self._open) - 1, -1, -1):  # tolerant of unclosed elements
            if self._open[i][0] == tag:
                del self._open[i:]
                return

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._hidden():
            self.texts.append(data.strip())
