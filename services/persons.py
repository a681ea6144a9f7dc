"""Persons: leaders' appointments, departures and terms, bans, and erasure."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.codes import birth_date_from_id_number, mask_id_number, validate_id_number
from domain.errors import Conflict, RuleViolation
from domain.meta import Meta
from domain.organization import Organization
from domain.person import Person
from domain.personal import personal
from services.application import CommandResult
from services.errors import OrganizationNotFound


class PersonUseCases:
    """Mixed into the application (services.casefiles.CaseFiles)."""

    def ensure_person(self, name: str, id_number: str, meta: Meta) -> Person:
        """The person of this identity number, or a new one (not saved: the command that
        first needs the person saves it with what it decides)."""
        validate_id_number(id_number)
        person_id = self.person_id_for(id_number)
        try:
            return self.repository.get(person_id)
        except AggregateNotFoundError:
            # Personal fields are sealed with the person's own key when stored.
            return Person(id=person_id, name=personal(person_id, name),
                          id_number=personal(person_id, id_number),
                          birth_date=personal(person_id, birth_date_from_id_number(id_number)),
                          meta=meta)

    def find_person(self, *, id_number: str) -> Person | None:
        """The person recorded under this identity number; None for a number never
        recorded and for an erased person (nothing is told about them). Records
        nothing."""
        validate_id_number(id_number)
        try:
            person = self.repository.get(self.person_id_for(id_number))
        except AggregateNotFoundError:
            return None
        return None if person.is_erased else person

    def person_jurisdictions(self, person: Person) -> set[str]:
        """Where a person's record belongs (``Person.jurisdictions``): the current
        jurisdiction of each organization they serve, and where a ban was recorded."""
        def jurisdiction_of(identifier: str) -> str | None:
            try:
                return self.get_organization(identifier, shared=True).domicile["jurisdiction"]
            except OrganizationNotFound:
                return None

        return person.jurisdictions(jurisdiction_of)

    def appoint_leader(self, identifier: str, *, person: dict, roles: list[str],
                       term_start: date, term_end: date, public_notice: dict | None = None,
                       official_status: str = "none", approval_reference: str | None = None,
                       replaces: str | None = None, departure_audit_done: bool = False,
                       meta: Meta, expected_version: int | None = None,
                       idempotency_key: str | None = None,
                       fingerprint: str = "") -> CommandResult:
        """Appoint a leader: the organization's rules (one legal representative) and the
        person's (the ``leaders`` rule, for the organization's jurisdiction), together."""

        def decide(org: Organization):
            rules, applied = self.applying(Person.take_post, org.domicile["jurisdiction"],
                                           meta)
            appointee = self.ensure_person(person["name"], person["id_number"], meta)
            replaced = self._person_or_none(replaces)
            org.appoint_leader(person_id=str(appointee.id),
                               name=personal(appointee.id, person["name"]),
                               id_number_masked=personal(
                                   appointee.id, mask_id_number(person["id_number"])),
                               roles=roles, term_start=term_start, term_end=term_end,
                               public_notice=public_notice, official_status=official_status,
                               approval_reference=approval_reference, replaces=replaces,
                               departure_audit_done=departure_audit_done, meta=applied)
            if replaced is not None:
                replaced.leave_post(organization=identifier, meta=applied)
            appointee.take_post(organization=identifier, roles=roles,
                                official_status=official_status, meta=applied, **rules)
            return [p for p in (appointee, replaced) if p is not None], {
                "person_id": str(appointee.id)}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def _person_or_none(self, person_id: str | None) -> Person | None:
        if person_id is None:
            return None
        try:
            return self.get_person(UUID(person_id))
        except ValueError:
            raise RuleViolation(f"person {person_id} is not a current leader",
                                rule="not_a_leader", field="replaces") from None

    def record_leader_departure(self, identifier: str, person_id: str, *,
                                departure_reason: str, departure_audit_done: bool, meta: Meta,
                                expected_version: int | None = None,
                                idempotency_key: str | None = None,
                                fingerprint: str = "") -> CommandResult:
        def decide(org: Organization):
            org.record_leader_departure(person_id=person_id, departure_reason=departure_reason,
                                        departure_audit_done=departure_audit_done, meta=meta)
            person = self.get_person(UUID(person_id))
            person.leave_post(organization=identifier, meta=meta)
            return [person], {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def hold_term_election(self, identifier: str, *, term_start: date, term_end: date,
                           meta: Meta, expected_version: int | None = None,
                           idempotency_key: str | None = None,
                           fingerprint: str = "") -> CommandResult:
        def decide(org: Organization):
            rules, applied = self.applying(Person.begin_new_term,
                                           org.domicile["jurisdiction"], meta)
            persons = [self.get_person(UUID(p)) for p in sorted(org.leaders)]
            org.hold_term_election(term_start=term_start, term_end=term_end, meta=applied)
            for person in persons:
                person.begin_new_term(organization=identifier, meta=applied, **rules)
            return persons, {}

        return self._organization_command(identifier, decide, meta=meta,
                                          expected_version=expected_version,
                                          idempotency_key=idempotency_key,
                                          fingerprint=fingerprint)

    def record_occupational_ban(self, person_id: UUID, *, banned_from: date,
                                banned_until: date | None, meta: Meta,
                                jurisdiction: str | None = None,
                                expected_version: int | None = None,
                                idempotency_key: str | None = None,
                                fingerprint: str = "") -> CommandResult:
        """An occupational ban on a recorded person; ``jurisdiction``: the banning
        officer's."""
        def decide(person: Person):
            person.record_occupational_ban(banned_from=banned_from, banned_until=banned_until,
                                           jurisdiction=jurisdiction, meta=meta)
            return (), {}

        return self._execute(person_id, self.get_person, decide, identifier=str(person_id),
                             meta=meta, expected_version=expected_version,
                             idempotency_key=idempotency_key, fingerprint=fingerprint)

    def ban_person(self, *, person: dict, banned_from: date, banned_until: date | None,
                   meta: Meta, jurisdiction: str | None = None,
                   expected_version: int | None = None, idempotency_key: str | None = None,
                   fingerprint: str = "") -> CommandResult:
        """An occupational ban on a person named by identity number (``person``: name and
        id_number), recording the person first if this is the first time they are
        needed, in the same write."""
        validate_id_number(person["id_number"])
        person_id = self.person_id_for(person["id_number"])

        def decide(target: Person):
            target.record_occupational_ban(banned_from=banned_from, banned_until=banned_until,
                                           jurisdiction=jurisdiction, meta=meta)
            return (), {}

        return self._execute(person_id,
                             lambda _id: self.ensure_person(person["name"],
                                                            person["id_number"], meta),
                             decide, identifier=str(person_id), meta=meta,
                             expected_version=expected_version,
                             idempotency_key=idempotency_key, fingerprint=fingerprint)

    def erase_person(self, person_id: UUID, *, meta: Meta,
                     idempotency_key: str | None = None,
                     fingerprint: str = "") -> CommandResult:
        """An erasure request (crypto-shredding): recorded on the Person, and on each
        organization the person led (so their cached and projected states drop the name),
        in one atomic write; then the person's key is destroyed, after which every stored
        copy of their personal fields reads as erased. A repeated request for an erased
        person destroys the key again (in case the first stopped between the two) and is
        refused as a conflict."""
        person = self.get_person(person_id)
        if person.is_erased:
            self.person_keys.destroy(str(person_id))
            self.documents.erase(self.personal_documents(person))  # if the first stopped
            raise Conflict("this person's personal data is already erased",
                           rule="already_erased", field="person")

        def decide(person: Person):
            organizations = person.erase_personal_data(meta=meta)
            orgs = []
            for identifier in organizations:
                try:
                    org = self.get_organization(identifier)
                except OrganizationNotFound:
                    continue
                org.erase_leader_personal_data(person_id=str(person_id), meta=meta)
                orgs.append(org)
            return orgs, {"organizations": organizations}

        result = self._execute(person_id, self.get_person, decide, identifier=str(person_id),
                               meta=meta, expected_version=None,
                               idempotency_key=idempotency_key, fingerprint=fingerprint)
        # The saved (and cached) aggregates already hold the erased markers.
        self.person_keys.destroy(str(person_id))
        # and the documents attached as the person's personal data: their content goes,
        # the events' record of their hashes stays
        self.documents.erase(self.personal_documents(person))
        return result
