"""The partner dashboard's filters, read from the URL's query string: a period of whole months
(a preset or from/to months) and optionally one of the partner's programmes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from oneforone.accounts.models import Organisation
from oneforone.impact.models import MethodologyVersion, VersionStatus
from oneforone.partners.models import Programme
from oneforone.reporting.queries import PRESETS, Scope, add_months, first_registration_month

DEFAULT_PRESET = "12m"


@dataclass
class Filters:
    scope: Scope
    programmes: list[Programme]
    errors: list[str] = field(default_factory=list)
    # The methodology version of the impact figures: the latest published unless one is chosen.
    version: MethodologyVersion | None = None
    versions: list[MethodologyVersion] = field(default_factory=list)
    version_chosen: bool = False

    def query(self, **changes: str) -> str:
        """The query string of this choice, for links to exports and drill-downs."""
        params = {"from": f"{self.scope.first:%Y-%m}", "to": f"{self.scope.last:%Y-%m}"}
        if self.scope.preset != "custom":
            params = {"period": self.scope.preset}
        if self.scope.programme is not None:
            params["programme"] = self.scope.programme.code
        if self.version_chosen and self.version is not None:
            params["version"] = str(self.version.number)
        params.update(changes)
        return urlencode(params)

    def period_query(self) -> str:
        """The period alone, for links that choose a programme."""
        params = {"from": f"{self.scope.first:%Y-%m}", "to": f"{self.scope.last:%Y-%m}"}
        return urlencode({"period": self.scope.preset} if self.scope.preset != "custom" else params)


def _month(text: str, name: str, errors: list[str]) -> dt.date | None:
    try:
        year, month = text.strip().split("-")
        if len(year) != 4:
            raise ValueError(year)
        return dt.date(int(year), int(month), 1)
    except ValueError:
        errors.append(
            _("'%(text)s' is not a month for '%(name)s': write it as YYYY-MM, e.g. 2026-03.")
            % {"text": text, "name": name}
        )
        return None


def parse(params: Mapping[str, str], partner: Organisation) -> Filters:
    """Read the filters; anything wrong is reported and replaced by the default."""
    errors: list[str] = []
    programmes = list(Programme.objects.filter(partner=partner).order_by("code"))
    programme = None
    code = params.get("programme", "").strip()
    if code:
        programme = next((p for p in programmes if p.code == code), None)
        if programme is None:
            errors.append(
                _("You have no programme '%(code)s': all programmes are shown.") % {"code": code}
            )
    this_month = timezone.localdate().replace(day=1)
    preset = params.get("period", "").strip()
    first = last = None
    if params.get("from") or params.get("to"):
        preset = "custom"
        first = _month(params["from"], "from", errors) if params.get("from") else None
        last = _month(params["to"], "to", errors) if params.get("to") else this_month
        if first is None and not errors:
            first = first_registration_month(partner) or this_month
        if first and last and first > last:
            errors.append(_("The period starts after it ends: swap 'from' and 'to'."))
            first = last = None
    elif preset and preset not in PRESETS:
        errors.append(
            _("'%(preset)s' is not a period; choose one of %(presets)s.")
            % {"preset": preset, "presets": ", ".join(PRESETS)}
        )
        preset = ""
    if first is None or last is None:
        preset = preset if preset in PRESETS and preset != "custom" else DEFAULT_PRESET
        first, last = _preset(preset, this_month, partner)
    chosen = Filters(Scope(partner, programme, first, last, preset), programmes, errors)
    _choose_version(chosen, params.get("version", "").strip())
    return chosen


def _choose_version(chosen: Filters, number: str) -> None:
    """Only a published version can be chosen; a draft is not shown to partners."""
    chosen.versions = list(
        MethodologyVersion.objects.filter(status=VersionStatus.PUBLISHED).order_by("-number")
    )
    chosen.version = chosen.versions[0] if chosen.versions else None
    if not number:
        return
    found = next((v for v in chosen.versions if str(v.number) == number), None)
    if found is None:
        chosen.errors.append(
            _(
                "There is no published methodology version %(number)s: the figures are shown "
                "under the latest one."
            )
            % {"number": number}
        )
        return
    chosen.version, chosen.version_chosen = found, True


def _preset(preset: str, this_month: dt.date, partner: Organisation) -> tuple[dt.date, dt.date]:
    if preset == "year":
        return this_month.replace(month=1), this_month
    if preset == "last-year":
        return dt.date(this_month.year - 1, 1, 1), dt.date(this_month.year - 1, 12, 1)
    if preset == "all":
        return min(first_registration_month(partner) or this_month, this_month), this_month
    return add_months(this_month, -11), this_month
