"""Every code the pages show, with its human label: statuses, types, conclusions, lists,
penalty kinds, roles, leader roles, event types, rules, flags. The label is an English
message id marked for the translation catalog (``N_``); ``label`` translates it into the
page's language. A code is never shown as it is: one without a label here is a gap the
demo-pages test finds (tests/e2e/test_demo_pages.py).

The tables are by kind (a code may mean two things: ``warning`` is a penalty kind and a
drill-down flag), and ``VALUE_KINDS`` says which kind a document field's value is.
"""

from __future__ import annotations

import re

from flask_babel import gettext

from domain.texts import N_

LABELS: dict[str, dict[str, str]] = {
    "status": {"active": N_("Active"), "suspended": N_("Suspended"),
               "deregistered": N_("Deregistered"), "revoked": N_("Registration revoked"),
               "banned": N_("Banned")},
    "org_type": {"social_association": N_("Social association"),
                 "social_service_institution": N_("Social service institution"),
                 "foundation": N_("Foundation"),
                 "community_organization": N_("Community organization")},
    "conclusion": {"qualified": N_("Qualified"),
                   "basically_qualified": N_("Basically qualified"),
                   "unqualified": N_("Unqualified")},
    "credit_list": {"abnormal_activity": N_("Abnormal-activity list"),
                    "serious_dishonesty": N_("Serious illegal-and-dishonest list")},
    "penalty_kind": {"warning": N_("Warning"), "fine": N_("Fine"),
                     "confiscation": N_("Confiscation of illegal gains"),
                     "suspension": N_("Suspension of activities"),
                     "revocation": N_("Revocation of registration")},
    "warning_status": {"open": N_("Open"), "acknowledged": N_("Acknowledged"),
                       "resolved": N_("Resolved")},
    "rectification_status": {"open": N_("Being rectified"), "overdue": N_("Overdue"),
                             "completed": N_("Completed")},
    "data_type": {"text": N_("Text"), "integer": N_("Whole number"),
                  "date": N_("Date (YYYY-MM-DD)"), "boolean": N_("Yes or no")},
    "severity": {"low": N_("Low"), "medium": N_("Medium"), "high": N_("High")},
    "risk_level": {"none": N_("No risk"), "low": N_("Low"), "medium": N_("Medium"),
                   "high": N_("High")},
    "level": {"committee": N_("Residents' committee"), "sub_district": N_("Sub-district"),
              "district": N_("District")},
    "source": {"information_officer": N_("Information officer"), "rule": N_("Rule"),
               "tip_off": N_("Tip-off"), "public_opinion": N_("Public-opinion monitoring")},
    "role": {"registration_staff": N_("Registration staff"),
             "supervisory_unit": N_("Supervisory unit"),
             "sub_district_office": N_("Sub-district office"),
             "information_officer": N_("Information officer"), "auditor": N_("Auditor"),
             "organization": N_("Organization"), "admin": N_("Administrator"),
             "system": N_("System")},
    "leader_role": {"legal_representative": N_("Legal representative"), "chair": N_("Chair"),
                    "secretary_general": N_("Secretary-general"),
                    "supervisor": N_("Supervisor"), "other": N_("Other post")},
    "official_status": {"none": N_("Not a public official"),
                        "serving": N_("Serving official"), "retired": N_("Retired official")},
    "major_event_category": {
        "meeting_or_election": N_("Members' meeting or election"),
        "important_activity": N_("Important activity"), "leader_change": N_("Change of leader"),
        "charter_change": N_("Change of charter"), "domicile_change": N_("Change of domicile"),
        "foreign_exchange": N_("Foreign exchange or donation"),
        "large_financial_transaction": N_("Large financial transaction"),
        "litigation": N_("Litigation"), "safety_incident": N_("Safety incident"),
        "other": N_("Other")},
    "recipient": {"registration_authority": N_("Registration authority"),
                  "supervisory_unit": N_("Supervisory unit"),
                  "party_building_body": N_("Party-building body")},
    "grade": {"1A": N_("1A"), "2A": N_("2A"), "3A": N_("3A"), "4A": N_("4A"), "5A": N_("5A")},
    "outcome": {"no_problem_found": N_("No problem found"),
                "rectification_ordered": N_("Rectification ordered"),
                "penalty": N_("Penalty imposed")},
    "authority_level": {"district": N_("District authority"), "city": N_("City authority"),
                        "province": N_("Province authority")},
    "certificate_state": {"valid": N_("Valid"), "expiring": N_("Expiring"),
                          "expired": N_("Expired")},
    "risk_flag": {"credit_listed": N_("On a credit list"),
                  "overdue_rectification": N_("Rectification overdue"),
                  "open_rectification": N_("Rectification open"),
                  "high_risk_major_event": N_("High-risk major event"),
                  "late_major_event": N_("Major event reported late"),
                  "unqualified": N_("Last inspection unqualified"),
                  "suspended": N_("Suspended")},
    "flag": {"warning": N_("Organizations with active warnings"),
             "warning_high": N_("Organizations with high-severity warnings"),
             "certificate_expiring": N_("Certificate expiring"),
             "certificate_expired": N_("Certificate expired"),
             "open_rectification": N_("Rectification open"),
             "overdue_rectification": N_("Rectification overdue"),
             "credit_listed": N_("On a credit list"),
             "zombie_candidate": N_("Zombie candidates"),
             "high_risk_major_event": N_("High-risk major event")},
    "figure": {"warnings_low": N_("Low"), "warnings_medium": N_("Medium"),
               "warnings_high": N_("High")},
    "proposal_kind": {"listing": N_("Listing"), "delisting": N_("Removal from the list"),
                      "conclusion": N_("Annual-inspection conclusion")},
    "proposal_status": {"proposed": N_("Proposed"), "confirmed": N_("Confirmed"),
                        "rejected": N_("Rejected")},
    "trigger": {"principle": N_("Principle"), "events": N_("Follows events"),
                "clock": N_("Daily clock"), "events+clock": N_("Events and daily clock"),
                "command": N_("Checked by the command"),
                "command+clock": N_("Checked by the command and the daily clock")},
    "rule": {"record_not_changed_silently": N_("Rules never change the record silently"),
             "abnormal_activity_listing": N_("Abnormal-activity list"),
             "serious_dishonesty_listing": N_("Serious illegal-and-dishonest list"),
             "annual_inspection": N_("Annual inspection"),
             "certificate_expiry": N_("Certificate expiry"),
             "zombie_candidate": N_("Zombie candidates"), "rating": N_("Rating"),
             "leaders": N_("Leaders"), "major_event_reporting": N_("Major-event reporting"),
             "double_random_sampling": N_("Double-random sampling"),
             "warning_escalation": N_("Escalation of warnings"),
             "timeliness": N_("Timeliness of credit information"),
             "credit_objection": N_("Objections to credit information")},
    "rule_parameter": {
        "annual_report_deadline": N_("Annual report due (month-day)"),
        "small_fine_limit": N_("A small fine is under (yuan)"),
        "removal_working_days": N_("Removal after a verified rectification (working days)"),
        "auto_removal_months": N_("Removal with nothing to rectify (months)"),
        "years_on_abnormal_list": N_("Years on the abnormal-activity list"),
        "large_fine_limit": N_("A large fine is at least (yuan)"),
        "repeat_penalties": N_("Warnings or small fines that count as repeated"),
        "repeat_window_years": N_("Within (years)"),
        "removal_years": N_("Removal after (years) with no new trigger"),
        "supervisory_unit_deadline": N_("Report due to the supervisory unit (month-day)"),
        "registration_authority_deadline": N_("Report due to the registration authority "
                                              "(month-day)"),
        "exempt_months": N_("Registered less than (months) before year end: exempt"),
        "expiring_days": N_("Expiring within (days)"),
        "severity_expiring": N_("Severity when expiring"),
        "severity_expired": N_("Severity when expired"),
        "missed_reports": N_("Annual reports missed in a row"),
        "inactive_years": N_("Years with no activity"), "severity": N_("Severity"),
        "valid_years": N_("A grade is valid (years)"),
        "min_registered_years": N_("Registered at least (years)"),
        "sanctioned_years": N_("Led a revoked or banned organization within (years)"),
        "retired_max_posts": N_("Posts a retired official may hold"),
        "retired_max_terms": N_("Terms a retired official may serve"),
        "retired_max_age": N_("Age limit of a retired official"),
        "notice_days": N_("Days of notice before a major event"),
        "notice_days_leadership": N_("Days of notice before an election or leadership "
                                     "change"),
        "severity_late": N_("Severity of a late report"),
        "severity_high_risk": N_("Severity of a high-risk review"),
        "ratio_district": N_("Sampling ratio, district authority"),
        "ratio_city": N_("Sampling ratio, city authority"),
        "ratio_province": N_("Sampling ratio, province authority"),
        "ratio_high_risk": N_("Sampling ratio, high-risk organizations"),
        "on_site_ratio": N_("On-site share of the population"),
        "inspectors_per_check": N_("Inspectors per on-site check"),
        "committee_days": N_("Days at residents'-committee level before escalation"),
        "sub_district_days": N_("Days at sub-district level before escalation"),
        "working_days": N_("Recorded within (working days)"),
        "decision_working_days": N_("Objection decided within (working days)"),
        "severity_overdue": N_("Severity of an objection past its deadline")},
    # issue 16: what an objection contests, and where an objection or a credit repair
    # application stands
    "objection_entry": {"credit_listing": N_("Credit listing"), "penalty": N_("Penalty"),
                        "annual_inspection": N_("Annual-inspection conclusion")},
    "remedy_status": {"pending": N_("Pending"), "upheld": N_("Upheld"),
                      "dismissed": N_("Dismissed"), "approved": N_("Approved"),
                      "refused": N_("Refused")},
    "rule_event": {"defined": N_("Rule recorded with the catalog's defaults"),
                   "changed": N_("Rule changed")},
    "actor": {"system": N_("System"), "clock": N_("Daily clock"),
              "demo-loader": N_("Demo data loader")},
    "bool": {"True": N_("Yes"), "False": N_("No")},
    # the online annual report (domain.annual_report_review): where a year's report
    # stands, and each step of its history
    "report_stage": {"draft": N_("Draft, not submitted"),
                     "submitted": N_("Submitted, awaiting the supervisory unit's pre-review"),
                     "returned": N_("Returned with comments"),
                     "approved": N_("Approved by the supervisory unit and filed"),
                     "filed": N_("Filed with the registration authority"),
                     "concluded": N_("Annual inspection concluded")},
    "report_step": {"saved": N_("Draft saved"), "submitted": N_("Submitted"),
                    "returned": N_("Returned with comments"),
                    "approved": N_("Approved in pre-review")},
    "media_type": {"application/pdf": N_("PDF"), "image/jpeg": N_("JPEG image"),
                   "image/png": N_("PNG image")},
    "account_status": {"active": N_("In use"), "locked": N_("Locked"),
                       "disabled": N_("Disabled")},
}

# Each event type (its aggregate and name, as the audit trail names it) as a person
# would say what happened.
EVENTS: dict[str, str] = {
    "Organization.Registered": N_("Registered"),
    "Organization.Recorded": N_("Recorded (community organization)"),
    "Organization.ChangeRegistered": N_("Change registered"),
    "Organization.AnnualReportFiled": N_("Annual report filed"),
    "Organization.AnnualReportDraftSaved": N_("Annual report's draft saved"),
    "Organization.AnnualReportSubmitted": N_("Annual report submitted"),
    "Organization.AnnualReportReturned": N_("Annual report returned with comments"),
    "Organization.AnnualReportApproved": N_("Annual report approved by the supervisory unit"),
    "Organization.AnnualInspectionConcluded": N_("Annual inspection concluded"),
    "Organization.AnnualInspectionCorrected": N_("Annual-inspection conclusion corrected"),
    "Organization.LevelAssessed": N_("Level assessed"),
    "Organization.CertificateRenewed": N_("Certificate renewed"),
    "Organization.Deregistered": N_("Deregistered"),
    "Organization.RegistrationRevoked": N_("Registration revoked"),
    "Organization.Banned": N_("Banned"),
    "Organization.MajorEventReported": N_("Major event reported"),
    "Organization.MajorEventReviewed": N_("Major-event report reviewed"),
    "Organization.InspectionConducted": N_("Inspection conducted"),
    "Organization.RectificationOrdered": N_("Rectification ordered"),
    "Organization.RectificationFollowedUp": N_("Rectification followed up"),
    "Organization.RectificationCompleted": N_("Rectification completed"),
    "Organization.RectificationOverdue": N_("Rectification overdue"),
    "Organization.ManagementSuggestionIssued": N_("Management suggestion issued"),
    "Organization.PenaltyImposed": N_("Penalty imposed"),
    "Organization.PenaltyRescinded": N_("Penalty rescinded"),
    "Organization.ActivitiesResumed": N_("Activities resumed"),
    "Organization.CreditListed": N_("Listed on a credit list"),
    "Organization.CreditListingRemoved": N_("Removed from a credit list"),
    "Organization.InterviewHeld": N_("Interview held"),
    "Organization.ObjectionFiled": N_("Objection filed"),
    "Organization.ObjectionUpheld": N_("Objection upheld"),
    "Organization.ObjectionDismissed": N_("Objection dismissed"),
    "Organization.CreditRepairApplied": N_("Credit repair applied for"),
    "Organization.CreditRepairApproved": N_("Credit repair approved"),
    "Organization.CreditRepairRefused": N_("Credit repair refused"),
    "Organization.LeaderAppointed": N_("Leader appointed"),
    "Organization.LeaderDeparted": N_("Leader departed"),
    "Organization.TermElectionHeld": N_("Term election held"),
    "Organization.LeaderWarned": N_("Leader warned"),
    "Organization.LeaderReplacementOrdered": N_("Leader's replacement ordered"),
    "Organization.LeaderPersonalDataErased": N_("Leader's personal data erased"),
    "EarlyWarning.Raised": N_("Warning raised"),
    "EarlyWarning.Acknowledged": N_("Warning acknowledged"),
    "EarlyWarning.Escalated": N_("Warning escalated"),
    "EarlyWarning.Resolved": N_("Warning resolved"),
    "Proposal.Made": N_("Proposed"), "Proposal.Confirmed": N_("Proposal confirmed"),
    "Proposal.Rejected": N_("Proposal rejected"),
    "NetworkNode.Established": N_("Network node established"),
    "NetworkNode.OfficerAssigned": N_("Information officer assigned"),
    "NetworkNode.OfficerRemoved": N_("Information officer removed"),
    "Clock.Started": N_("Clock started"), "Clock.Ticked": N_("Day ticked"),
    "Person.Registered": N_("Person registered"),
    "Person.PersonalDataErased": N_("Personal data erased"),
    "Person.OccupationalBanRecorded": N_("Occupational ban recorded"),
    "Person.PostTaken": N_("Post taken"), "Person.NewTermBegun": N_("New term begun"),
    "Person.PostLeft": N_("Post left"),
    "Person.LedSanctionedOrganization": N_("Led a sanctioned organization"),
    "Person.SanctionLifted": N_("Sanction lifted"),
    "Account.Opened": N_("Account opened"), "Account.TokenIssued": N_("API token issued"),
    "Account.PasswordChanged": N_("Password changed"),
    "Account.Disabled": N_("Account disabled"), "Account.Granted": N_("Role changed"),
    "Rule.Defined": N_("Rule defined"), "Rule.Changed": N_("Rule changed"),
    "InspectionPlan.Planned": N_("Inspection plan drawn"),
    "InspectionPlan.ResultsPublished": N_("Inspection plan's results published"),
}

# A document field's value is a code of this kind (by "parent.field", then "field").
VALUE_KINDS = {
    "type": "org_type", "org_type": "org_type", "status": "status", "result": "conclusion",
    "list": "credit_list", "credit_list": "credit_list", "credit_lists": "credit_list",
    "kind": "penalty_kind", "roles": "leader_role", "official_status": "official_status",
    "risk_level": "risk_level", "category": "major_event_category", "sent_to": "recipient",
    "severity": "severity", "level": "level", "source": "source", "role": "role",
    "grade": "grade", "authority_level": "authority_level", "state": "certificate_state",
    "risk_flags": "risk_flag", "flag": "flag", "actor_role": "role",
    "previous_status": "status", "closure.status": "status",
    "rectifications.status": "rectification_status", "warnings.status": "warning_status",
    "proposals.status": "proposal_status", "proposals.kind": "proposal_kind",
    "entry": "objection_entry", "objections.status": "remedy_status",
    "repair_applications.status": "remedy_status",
    "annual_report_reviews.state": "report_stage", "annual_report_reviews.stage":
    "report_stage", "stage": "report_stage", "history.step": "report_step",
}


def label(code: object, kind: str) -> str:
    """The code's label in the page's language; a code without one as it is."""
    if code is None or code == "":
        return ""
    text = LABELS.get(kind, {}).get(str(code))
    return gettext(text) if text else str(code)


def event_label(event_type: str) -> str:
    """An event type (``Organization.CreditListed``, a module path ending so, or the bare
    name of an organization's event) as what happened."""
    parts = str(event_type).replace(":", ".").split(".")
    name = ".".join(parts[-2:]) if len(parts) > 1 else f"Organization.{parts[0]}"
    text = EVENTS.get(name) or EVENTS.get(f"Organization.{parts[-1]}")
    return gettext(text) if text else str(event_type)


def value_kind(path: str) -> str | None:
    """The kind of code a document field holds (``rectifications[0].status`` is a
    rectification's status), or None for a field that holds no code."""
    names = [p for p in path.replace("]", "").replace("[", ".").split(".")
             if p and not p.isdigit()]
    if not names:
        return None
    if len(names) > 1 and f"{names[-2]}.{names[-1]}" in VALUE_KINDS:
        return VALUE_KINDS[f"{names[-2]}.{names[-1]}"]
    return VALUE_KINDS.get(names[-1])

# A field of a form (the API's body) or of a document (the case file, the audit
# trail's changes), by its name or dotted path.
FIELD_LABELS = {
    "activities_held": N_("Activities held"), "address": N_("Address"),
    "amount": N_("Amount (yuan)"), "annual_inspections": N_("Annual inspections"),
    "annual_reports": N_("Annual reports"), "appointed_on": N_("Appointed on"),
    "annual_report_reviews": N_("Online annual reports"), "report": N_("Report"),
    "saved_on": N_("Saved on"), "submitted_on": N_("Submitted on"),
    "returned": N_("Returned"), "returned_on": N_("Returned on"),
    "approved_on": N_("Approved on"), "history": N_("History"), "comments": N_("Comments"),
    "stage": N_("Stage"), "step": N_("Step"), "by": N_("By"), "actor": N_("By"),
    "approval_date": N_("Approval date"), "approval_reference": N_("Approval reference"),
    "assessed_on": N_("Assessed on"), "authority_level": N_("Authority level"),
    "business_scope": N_("Business scope"), "category": N_("Category"),
    "certificate": N_("Certificate"), "certificate_valid_until": N_("Certificate valid until"),
    "changes": N_("Changes"), "changes.business_scope": N_("New business scope"),
    "changes.domicile.address": N_("New address"),
    "changes.domicile.jurisdiction": N_("New domicile's division code"),
    "changes.name": N_("New name"), "changes.registered_funds": N_("New registered funds"),
    "changes.supervisory_unit": N_("New supervisory unit"), "closure": N_("Closure"),
    "code": N_("Unified social credit code"), "completed_on": N_("Completed on"),
    "concluded_on": N_("Concluded on"), "conducted_on": N_("Conducted on"),
    "content": N_("Content"), "corrections": N_("Corrections"),
    "credit_listings": N_("Credit listings"), "deadline": N_("Deadline"),
    "decision_date": N_("Decision date"), "decision_number": N_("Decision number"),
    "departed_on": N_("Left on"), "departure_audit_done": N_("Departure audit done"),
    "departure_reason": N_("Reason for leaving"), "description": N_("Description"),
    "domicile": N_("Domicile"), "domicile.address": N_("Address"),
    "domicile_address": N_("Address"), "record_number": N_("Record number"),
    "domicile.jurisdiction": N_("Domicile's division code"),
    "effective_date": N_("Date it takes effect"), "expenditure": N_("Expenditure (yuan)"),
    "filed_on": N_("Filed on"), "findings": N_("Findings"), "follow_ups": N_("Follow-ups"),
    "former_leaders": N_("Former leaders"), "founded_on": N_("Founded on"), "from": N_("From"),
    "grade": N_("Grade"), "held_on": N_("Held on"), "id": N_("Id"),
    "token": N_("API token"), "issued_at": N_("Issued"), "expires_at": N_("Expires"),
    "last_used_at": N_("Last used"),
    "id_number": N_("Identity number"), "id_number_masked": N_("Identity number"),
    "identifier": N_("Identifier"), "imported": N_("Imported from a register"),
    "full_time_staff": N_("Full-time staff"),
    "income": N_("Income (yuan)"), "inspections": N_("Inspections"),
    "inspectors": N_("Inspectors"), "interviews": N_("Interviews"),
    "issued_on": N_("Issued on"), "issues": N_("Issues"), "items": N_("Items inspected"),
    "jurisdiction": N_("Division code"), "kind": N_("Kind of penalty"), "late": N_("Late"),
    "leaders": N_("Leaders"), "legal_basis": N_("Legal basis"),
    "legal_representative": N_("Legal representative"), "level": N_("Rating"),
    "limit": N_("Rows a page"),
    "list": N_("Credit list"), "listed_on": N_("Listed on"),
    "major_events": N_("Major events"), "management_suggestions": N_("Management suggestions"),
    "name": N_("Name"), "net_assets": N_("Net assets (yuan)"), "new": N_("New value"),
    "note": N_("Note"), "notice_number": N_("Notice number"), "number": N_("Number"),
    "offset": N_("Rows skipped"), "official_status": N_("Official status"),
    "old": N_("Old value"), "on": N_("On"),
    "on_site": N_("On site"), "opinion": N_("Opinion"), "ordered_on": N_("Ordered on"),
    "organization": N_("Organization"), "overdue_since": N_("Overdue since"),
    "parameters": N_("Parameters"), "party_organization": N_("Party organization"),
    "penalties": N_("Penalties"), "person.id_number": N_("Identity number"),
    "person.name": N_("Name"), "person_id": N_("Person id"),
    "person_name": N_("Person's name"), "person_role": N_("Person's post"),
    "plan_id": N_("Plan number"), "planned_date": N_("Planned date"),
    "position": N_("Log position"), "previous_status": N_("Previous status"),
    "previous_valid_until": N_("Previously valid until"),
    "public_notice": N_("Pre-appointment public notice"),
    "public_notice.from": N_("Public notice from"),
    "public_notice.to": N_("Public notice until"), "reason": N_("Reason"),
    "rectifications": N_("Rectifications"), "reference": N_("Decision or notice number"),
    "registered_funds": N_("Registered funds (yuan)"), "registered_on": N_("Registered on"),
    "removal_reason": N_("Reason for removal"), "removed_on": N_("Removed on"),
    "renewals": N_("Renewals"), "renewed_on": N_("Renewed on"),
    "replacement_order": N_("Replacement order"), "replaces": N_("Replaces (a serving leader)"),
    "reported_on": N_("Reported on"), "required_notice_days": N_("Days of notice required"),
    "rescinded": N_("Rescinded"), "rescinded_on": N_("Rescinded on"),
    "result": N_("Conclusion"), "review": N_("Review"), "reviewed_on": N_("Reviewed on"),
    "risk_flags": N_("Risks"), "risk_level": N_("Risk level"), "roles": N_("Roles"),
    "seed": N_("Random seed"), "sent_to": N_("Sent to"), "severity": N_("Severity"),
    "source": N_("Source"), "state": N_("State"), "status": N_("Status"),
    "status_since": N_("Status since"), "supervisory_unit": N_("Supervisory unit"),
    "suspended_until": N_("Suspended until"), "term_elections": N_("Term elections"),
    "term_end": N_("Term ends"), "term_start": N_("Term starts"), "title": N_("Title"),
    "to": N_("To"), "topics": N_("Topics"), "type": N_("Type"), "until": N_("Until"),
    "username": N_("Username"), "valid_until": N_("Valid until"), "version": N_("Version"),
    "warnings": N_("Warnings"), "year": N_("Year"),
    "entry": N_("Contested entry"),
    "entry_id": N_("Entry (listing number, decision number or year)"),
    "evidence": N_("Evidence"), "listing_id": N_("Credit listing number"),
    "objections": N_("Objections"), "repair_applications": N_("Credit repair applications"),
    "due_by": N_("Decide by"), "filed_by": N_("Filed by"), "applied_on": N_("Applied on"),
    "applied_by": N_("Applied by"), "decision": N_("Decision"), "by": N_("By"),
    "disputed": N_("Disputed"),
}

# Each command endpoint's form title.
FORM_TITLES = {
    "api.register": N_("Register an organization"),
    "api.record_community": N_("Record a community organization"),
    "api.command_change": N_("Record a change"),
    "api.command_annual_report": N_("File the annual report"),
    "api.command_annual_report_draft": N_("Save the annual report's draft"),
    "api.command_annual_report_submission": N_("Submit the annual report"),
    "api.command_annual_report_return": N_("Return the annual report with comments"),
    "api.command_annual_report_approval": N_("Approve the annual report"),
    "api.command_annual_inspection": N_("Conclude the annual inspection"),
    "api.command_annual_inspection_correction": N_("Correct an annual-inspection conclusion"),
    "api.command_level_assessment": N_("Record a level assessment"),
    "api.command_major_event": N_("Report a major event"),
    "api.command_major_event_review": N_("Review a major-event report"),
    "api.command_inspection": N_("Record an inspection"),
    "api.command_rectification": N_("Order a rectification"),
    "api.command_rectification_follow_up": N_("Follow up a rectification"),
    "api.command_rectification_completion": N_("Complete a rectification"),
    "api.command_management_suggestion": N_("Give a management suggestion"),
    "api.command_resumption": N_("Resume activities after a suspension"),
    "api.command_credit_listing": N_("List on a credit list"),
    "api.command_credit_listing_removal": N_("Remove from a credit list"),
    "api.command_interview": N_("Record an interview"),
    "api.command_leader_warning": N_("Warn a leader"),
    "api.command_leader_replacement_order": N_("Order a leader's replacement"),
    "api.command_certificate_renewal": N_("Renew the certificate"),
    "api.impose_penalty": N_("Impose a penalty"),
    "api.rescind_penalty": N_("Rescind a penalty"), "api.close_deregister": N_("Deregister"),
    "api.close_revoke": N_("Revoke the registration"),
    "api.close_ban": N_("Ban an unregistered organization"),
    "api.appoint_leader": N_("Appoint a leader"),
    "api.leader_departure": N_("Record a leader's departure"),
    "api.term_election": N_("Record a term election"),
    "api.lookup_person": N_("Look a person up by identity number"),
    "api.ban_person": N_("Record an occupational ban against a person"),
    "api.issue_own_token": N_("Issue an API token"),
    "api.revoke_own_token": N_("Revoke one of my API tokens"),
    "api.revoke_token": N_("Revoke an account's API token"),
    "api.lift_lockout": N_("Lift an account's sign-in lockout"),
    "api.occupational_ban": N_("Record an occupational ban"),
    "api.raise_warning": N_("Raise a warning"),
    "api.warning_acknowledgement": N_("Acknowledge a warning"),
    "api.warning_escalation": N_("Escalate a warning"),
    "api.warning_resolution": N_("Resolve a warning"), "api.change_rule": N_("Change a rule"),
    "api.proposal_confirmation": N_("Confirm a proposal"),
    "api.proposal_rejection": N_("Reject a proposal"),
    "api.establish_node": N_("Establish a network node"),
    "api.assign_officer": N_("Assign an information officer"),
    "api.remove_officer": N_("Remove an information officer"),
    "api.plan_inspection": N_("Draw a double-random inspection plan"),
    "api.publish_inspection_results": N_("Publish the plan's results"),
    "api.erase_person": N_("Erase a person's personal data"),
    "api.command_objection": N_("File an objection to credit information"),
    "api.command_objection_upheld": N_("Uphold an objection"),
    "api.command_objection_dismissed": N_("Dismiss an objection"),
    "api.command_credit_repair": N_("Apply for credit repair"),
    "api.command_credit_repair_approved": N_("Approve a credit repair"),
    "api.command_credit_repair_refused": N_("Refuse a credit repair"),
    # the administrators' account forms (adapters/web/accounts.py)
    "accounts.open": N_("Open an account"),
    "accounts.grant": N_("Change an account's role and scope"),
    "accounts.password": N_("Set an account's password"),
    "accounts.disable": N_("Disable an account"),
}


# The API's other operations (reads, uploads, health), by endpoint, for the API reference
# (/docs) and the summaries of /openapi.json.
OPERATION_TITLES = {
    "accounts.own_account": N_("Read your own account"),
    "accounts.own_tokens": N_("List your API tokens"),
    "accounts.list_accounts_api": N_("List the accounts"),
    "accounts.account_api": N_("Read an account"),
    "reads.audit_checkpoint": N_("Read the audit trail's signed checkpoint"),
    "reads.verify_audit_trail": N_("Verify the audit trail"),
    "documents.upload_document": N_("Upload a document"),
    "plans.list_inspection_plans": N_("List the inspection plans"),
    "plans.read_inspection_plan": N_("Read an inspection plan"),
    "network.network_node": N_("Read a network node's figures"),
    "network.network_organizations": N_("List the organizations behind a figure"),
    "reads.search_organizations": N_("Search the register"),
    "reads.read_organization": N_("Read a case file"),
    "reads.organization_audit": N_("Read an organization's audit trail"),
    "documents.download_document": N_("Download a document"),
    "reads.read_history": N_("Read an organization's recorded events"),
    "printing.case_file_pdf": N_("Print a case file as PDF"),
    "reads.read_person": N_("Read a person's record"),
    "network.list_proposals": N_("List the proposals"),
    "network.list_rules": N_("List the rules"),
    "network.read_rule": N_("Read a rule"),
    "statistics.statistics": N_("Read the statistics"),
    "tasks.list_tasks": N_("Read the work queue"),
    "network.list_warnings": N_("List the warnings"),
    "health.healthz": N_("Liveness check"),
    "health.readyz": N_("Readiness check"),
}


def operation_title(endpoint: str, translate: bool = True) -> str | None:
    """An endpoint's title (its form's, or its operation's), in the page's language or
    (``translate=False``) in English; None for an endpoint without one."""
    english = FORM_TITLES.get(endpoint) or OPERATION_TITLES.get(endpoint)
    if english is None:
        return None
    return gettext(english) if translate else english


def field_label(name: str) -> str:
    """A field's human label in the page's language (``issues[2]`` is ``issues``; a
    nested field without one of its own is labelled by its last part)."""
    name = re.sub(r"\[[0-9]+\]", "", name or "")
    english = FIELD_LABELS.get(name) or FIELD_LABELS.get(name.rsplit(".", 1)[-1])
    return gettext(english) if english else name


def form_title(endpoint: str) -> str:
    english = FORM_TITLES.get(endpoint)
    return gettext(english) if english else endpoint.split(".")[-1].replace("_", " ")
