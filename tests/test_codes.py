"""The code lists are dated data: a document uses the codes valid on its date."""

from __future__ import annotations

import datetime as dt

import pytest

from oneforone.shipments.code_data import CODE_ENTRIES
from oneforone.shipments.codes import CodeError, codes_valid_on, ensure_code_lists, require_code
from oneforone.shipments.models import Code, CodeList

pytestmark = pytest.mark.django_db

DAY_BEFORE_BATTERY_CHANGE = dt.date(2026, 12, 8)
BATTERY_CHANGE = dt.date(2026, 12, 9)


def test_every_shipped_entry_is_in_the_database_once() -> None:
    assert Code.objects.count() == len(CODE_ENTRIES)
    assert ensure_code_lists() == 0


def test_every_list_of_the_issue_has_entries() -> None:
    lists = set(Code.objects.values_list("code_list", flat=True))
    assert lists == set(CodeList.values)


def test_a1181_replaces_a1180_from_2025() -> None:
    assert require_code(CodeList.BASEL, "A1180", on=dt.date(2024, 12, 31)).hazardous
    assert require_code(CodeList.BASEL, "A1181", on=dt.date(2025, 1, 1)).hazardous
    with pytest.raises(
        CodeError, match=r"A1180 .* valid until 2024-12-31, not on 2025-01-01; use A1181 instead"
    ):
        require_code(CodeList.BASEL, "A1180", on=dt.date(2025, 1, 1))
    with pytest.raises(CodeError, match=r"A1181 .* valid from 2025-01-01, not on 2024-12-31"):
        require_code(CodeList.BASEL, "A1181", on=dt.date(2024, 12, 31))


def test_b1110_was_deleted_for_y49() -> None:
    with pytest.raises(CodeError, match="use Y49 instead"):
        require_code(CodeList.BASEL, "B1110", on=dt.date(2026, 3, 1))
    assert require_code(CodeList.BASEL, "Y49", on=dt.date(2026, 3, 1)).code == "Y49"


def test_lithium_batteries_change_code_on_2026_12_09() -> None:
    assert not require_code(CodeList.EWC, "16 06 05", on=DAY_BEFORE_BATTERY_CHANGE).hazardous
    with pytest.raises(CodeError, match=r"16 06 05 .* not on 2026-12-09; use 16 06 07\*"):
        require_code(CodeList.EWC, "16 06 05", on=BATTERY_CHANGE)
    assert require_code(CodeList.EWC, "16 06 07*", on=BATTERY_CHANGE).hazardous
    with pytest.raises(CodeError, match="valid from 2026-12-09"):
        require_code(CodeList.EWC, "16 06 07*", on=DAY_BEFORE_BATTERY_CHANGE)


def test_alkaline_batteries_become_hazardous_under_a_starred_code() -> None:
    assert not require_code(CodeList.EWC, "16 06 04", on=DAY_BEFORE_BATTERY_CHANGE).hazardous
    with pytest.raises(CodeError, match=r"use 16 06 04\* instead"):
        require_code(CodeList.EWC, "16 06 04", on=BATTERY_CHANGE)


def test_household_battery_codes_are_replaced() -> None:
    with pytest.raises(CodeError, match="use 20 01 44 instead"):
        require_code(CodeList.EWC, "20 01 34", on=BATTERY_CHANGE)
    valid_after = {code.code for code in codes_valid_on(CodeList.EWC, BATTERY_CHANGE)}
    valid_before = {code.code for code in codes_valid_on(CodeList.EWC, DAY_BEFORE_BATTERY_CHANGE)}
    assert {"20 01 42*", "20 01 43*", "20 01 44"} <= valid_after - valid_before
    assert {"20 01 33*", "20 01 34", "16 06 05"} <= valid_before - valid_after
    # The phone codes do not change that day.
    assert "16 02 13*" in valid_before & valid_after


def test_unknown_code_is_refused_naming_its_list() -> None:
    with pytest.raises(CodeError, match="R14 is not in the Recovery"):
        require_code(CodeList.OPERATION, "R14", on=BATTERY_CHANGE)


def test_packaging_and_transport_codes() -> None:
    assert require_code(CodeList.PACKAGING, "5", on=BATTERY_CHANGE).label == "Bag"
    assert require_code(CodeList.PACKAGING, "4", on=BATTERY_CHANGE).label == "Box"
    assert require_code(CodeList.TRANSPORT, "S", on=BATTERY_CHANGE).label == "Sea"
    assert require_code(CodeList.PHYSICAL, "2", on=BATTERY_CHANGE).label == "Solid"


def test_battery_dangerous_goods_codes() -> None:
    for number in ("UN3480", "UN3481", "UN3090", "UN3091"):
        assert "class 9" in require_code(CodeList.UN_NUMBER, number, on=BATTERY_CHANGE).label
    assert require_code(CodeList.PACKING_INSTRUCTION, "P909", on=BATTERY_CHANGE)


def test_every_entry_names_its_source() -> None:
    assert not Code.objects.filter(source="").exists()
