"""The register an inspection plan draws from (services.inspection_plans.Register), over
the case-file and network views: the web's planning command and the demo both use it."""

from __future__ import annotations

from datetime import date
from typing import Callable

from domain.rules import Rule


class ReadModelRegister:
    """The register as the case-file and network views show it; ``certificate_expiry``
    gives the rule as it stands (a certificate's network flags depend on it) and
    ``today`` the day the flags are read for."""

    def __init__(self, models: dict, certificate_expiry: Callable[[], Rule],
                 today: Callable[[], date]):
        self.casefiles, self.network = models["casefiles"], models["network"]
        self.certificate_expiry, self.today = certificate_expiry, today

    def active(self, prefix: str, limit: int, offset: int) -> tuple[int, list[dict]]:
        return self.casefiles.search(jurisdiction=prefix, status="active", limit=limit,
                                     offset=offset)

    def flagged(self, prefix: str, flag: str, limit: int, offset: int
                ) -> tuple[int, list[dict]]:
        return self.network.organizations(prefix, flag, self.today(), limit, offset,
                                          certificate_expiry=self.certificate_expiry())
