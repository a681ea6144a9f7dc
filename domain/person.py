"""The Person aggregate: what the rules of DOMAIN.md section 5.8 need to know about a leader.

A person is identified by a pseudonym derived from the identity number with a secret key
(see services), so the identity number itself appears only inside this aggregate's
encrypted events, never in a URL, an organization's events or a log line. Name, identity
number and birth date are personal values (domain.personal) sealed with the person's own
key; erasing the person (``erase_personal_data``) lets the service destroy that key.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.calendar import add_years
from domain.codes import mask_id_number
from domain.errors import InvalidValue, RuleViolation
from domain.meta import Meta
from domain.personal import ERASED, erased, is_erased
from domain.recording import StampedByRecordingClock
from domain.rules import Parameters


class Person(Aggregate):
    class Event(StampedByRecordingClock, Aggregate.Event):
        """Every event, the creation too: stamped by the recording clock
        (domain.recording)."""

    @event("Registered")
    def __init__(self, id: UUID, name: str, id_number: str, birth_date: date, meta: Meta):
        self.name = name
        self.id_number = id_number
        self.birth_date = birth_date
        self.bans: list[dict] = []
        self.posts: dict[str, dict] = {}
        self.terms: dict[str, int] = {}
        self.sanctioned_organizations: list[dict] = []
        self.organizations_led: list[str] = []
        self.erased = False

    @property
    def is_erased(self) -> bool:
        return getattr(self, "erased", False)

    @property
    def is_new(self) -> bool:
        """Created by this command and not recorded yet (a person is recorded where they
        are first needed: appointed, or banned)."""
        pending = self.pending_events
        return bool(pending) and isinstance(pending[0], Person.Registered)

    @property
    def organizations_served(self) -> set[str]:
        """The organizations this person leads, led, or led when it was sanctioned: their
        jurisdictions are the person's (``jurisdictions``)."""
        return (set(getattr(self, "organizations_led", [])) | set(self.posts) |
                {s["organization"] for s in self.sanctioned_organizations})

    def jurisdictions(self, organization_jurisdiction) -> set[str]:
        """Where this person's record belongs, for scope checks: the current
        jurisdiction of each organization served (``organization_jurisdiction(code)``,
        None for an unknown one) and the jurisdictions that recorded a ban."""
        found = {ban.get("jurisdiction") for ban in self.bans}
        found |= {organization_jurisdiction(code) for code in self.organizations_served}
        return {j for j in found if j}

    @property
    def id_number_masked(self) -> str:
        if self.is_erased or is_erased(self.id_number):
            return ERASED
        return mask_id_number(self.id_number)

    def age_on(self, on: date) -> int:
        b = self.birth_date
        if not isinstance(b, date):
            raise RuleViolation("this person's personal data was erased: their age (birth "
                                "date) is not known, so the age rule cannot be applied",
                                rule="personal_data_erased", field="person")
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))

    def erase_personal_data(self, *, meta: Meta) -> list[str]:
        """An erasure request (crypto-shredding): the service destroys this person's key,
        so every stored copy of the personal fields reads as erased; the event records who
        asked, why and on what reference, and names the organizations this person led
        (whose events carry the name). Answers those organizations."""
        if self.is_erased:
            raise RuleViolation("this person's personal data is already erased",
                                rule="already_erased", field="person")
        if not meta.reason:
            raise InvalidValue("reason must say why the personal data is erased",
                               field="reason")
        organizations = sorted(set(getattr(self, "organizations_led", [])) |
                               set(self.posts) |
                               {s["organization"] for s in self.sanctioned_organizations})
        self._personal_data_erased(organizations=organizations, meta=meta)
        return organizations

    @event("PersonalDataErased")
    def _personal_data_erased(self, organizations: list[str], meta: Meta) -> None:
        self.name = erased(self.id)
        self.id_number = erased(self.id)
        self.birth_date = erased(self.id)
        self.erased = True

    def ban_in_force(self, on: date) -> dict | None:
        for ban in self.bans:
            if ban["from"] <= on and (ban["until"] is None or on <= ban["until"]):
                return ban
        return None

    def record_occupational_ban(self, *, banned_from: date, banned_until: date | None,
                                meta: Meta, jurisdiction: str | None = None) -> None:
        """从业禁止: blocks any appointment until it ends. ``jurisdiction``: the banning
        officer's, where the record belongs from then on besides its organizations'."""
        if self.is_erased:
            raise RuleViolation("this person's personal data was erased (their key is "
                                "destroyed): nothing more is recorded under this record",
                                rule="personal_data_erased", field="person")
        if banned_until is not None and banned_until < banned_from:
            raise InvalidValue("until must not be before from", field="until")
        if not meta.reason:
            raise InvalidValue("reason must say why the person is banned", field="reason")
        self._occupational_ban_recorded(banned_from=banned_from, banned_until=banned_until,
                                        jurisdiction=jurisdiction, meta=meta)

    class OccupationalBanRecorded(Event):
        """从业禁止 recorded against the person.

        Version 2 (issue 15) adds ``jurisdiction``, the banning officer's (None in a ban
        recorded before: its record belongs to the organizations the person served)."""

        class_version = 2
        banned_from: date
        banned_until: date | None
        meta: Meta
        jurisdiction: str | None

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["jurisdiction"] = None

    @event(OccupationalBanRecorded)
    def _occupational_ban_recorded(self, banned_from: date, banned_until: date | None,
                                   meta: Meta, jurisdiction: str | None) -> None:
        self.bans.append({"from": banned_from, "until": banned_until, "reason": meta.reason,
                          "reference": meta.reference, "jurisdiction": jurisdiction})

    def take_post(self, *, organization: str, roles: list[str], official_status: str,
                  leaders: Parameters, meta: Meta) -> None:
        """Rule 8, with the ``leaders`` rule's parameters: no banned person, no leader of
        an organization revoked or banned less than ``sanctioned_years`` ago, and a retired
        official holds at most ``retired_max_posts`` posts, ``retired_max_terms`` terms, up
        to age ``retired_max_age``."""
        on = meta.effective_date
        if self.is_erased:
            raise RuleViolation("this person's personal data was erased (their key is "
                                "destroyed): they cannot take a post under this record",
                                rule="personal_data_erased", field="person")
        ban = self.ban_in_force(on)
        if ban is not None:
            until = ban["until"] or "indefinitely"
            raise RuleViolation(f"this person is under an occupational ban until {until}",
                                rule="occupational_ban", field="person")
        ban_years = int(leaders["sanctioned_years"])
        for sanctioned in self.sanctioned_organizations:
            if add_years(sanctioned["on"], ban_years) > on:
                raise RuleViolation(
                    f"this person led {sanctioned['organization']}, which was "
                    f"{sanctioned['status']} on {sanctioned['on']}, less than "
                    f"{ban_years} years ago",
                    rule="led_sanctioned_organization", field="person")
        retired = official_status == "retired" or any(
            post["official_status"] == "retired" for post in self.posts.values())
        if retired:
            self.check_retired_official(organization, on, extra_terms=1, leaders=leaders)
            max_posts = int(leaders["retired_max_posts"])
            if len([o for o in self.posts if o != organization]) >= max_posts:
                raise RuleViolation(f"a retired official may hold at most {max_posts} "
                                    f"post{'' if max_posts == 1 else 's'} in social "
                                    "organizations",
                                    rule="retired_official_one_post", field="person")
        self._post_taken(organization=organization, roles=roles,
                         official_status=official_status, meta=meta)

    def check_retired_official(self, organization: str, on: date, extra_terms: int,
                               leaders: Parameters) -> None:
        max_age, max_terms = int(leaders["retired_max_age"]), int(leaders["retired_max_terms"])
        if self.age_on(on) > max_age:
            raise RuleViolation(f"a retired official may serve up to age {max_age}",
                                rule="retired_official_age", field="person")
        if self.terms.get(organization, 0) + extra_terms > max_terms:
            raise RuleViolation(f"a retired official may serve at most {max_terms} terms",
                                rule="retired_official_two_terms", field="person")

    @event("PostTaken")
    def _post_taken(self, organization: str, roles: list[str], official_status: str,
                    meta: Meta) -> None:
        self.posts[organization] = {"roles": roles, "official_status": official_status,
                                    "since": meta.effective_date}
        self.terms[organization] = self.terms.get(organization, 0) + 1
        led = getattr(self, "organizations_led", None)
        if led is None:
            led = self.organizations_led = []
        if organization not in led:
            led.append(organization)

    def begin_new_term(self, *, organization: str, leaders: Parameters, meta: Meta) -> None:
        """A term election re-elects this person (a retired official within the ``leaders``
        rule's age and terms)."""
        post = self.posts.get(organization)
        if post is None:
            return
        if post["official_status"] == "retired":
            self.check_retired_official(organization, meta.effective_date, extra_terms=1,
                                        leaders=leaders)
        self._new_term_begun(organization=organization, meta=meta)

    @event("NewTermBegun")
    def _new_term_begun(self, organization: str, meta: Meta) -> None:
        self.terms[organization] = self.terms.get(organization, 0) + 1

    def leave_post(self, *, organization: str, meta: Meta) -> None:
        if organization in self.posts:
            self._post_left(organization=organization, meta=meta)

    @event("PostLeft")
    def _post_left(self, organization: str, meta: Meta) -> None:
        self.posts.pop(organization, None)

    def record_sanctioned_organization(self, *, organization: str, status: str,
                                       meta: Meta) -> None:
        """The organization this person led was revoked or banned (rule 8: it bars them for
        the ``leaders`` rule's ``sanctioned_years``)."""
        self._led_sanctioned_organization(organization=organization, status=status, meta=meta)

    @event("LedSanctionedOrganization")
    def _led_sanctioned_organization(self, organization: str, status: str, meta: Meta) -> None:
        self.sanctioned_organizations.append({"organization": organization, "status": status,
                                              "on": meta.effective_date})
        self.posts.pop(organization, None)

    def lift_sanction(self, *, organization: str, meta: Meta) -> None:
        """The revocation was rescinded: it no longer counts against this person."""
        if any(s["organization"] == organization for s in self.sanctioned_organizations):
            self._sanction_lifted(organization=organization, meta=meta)

    @event("SanctionLifted")
    def _sanction_lifted(self, organization: str, meta: Meta) -> None:
        self.sanctioned_organizations = [s for s in self.sanctioned_organizations
                                         if s["organization"] != organization]
