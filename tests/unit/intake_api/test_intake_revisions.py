"""Pure parts of case and offer revisions: line changes, cards, stock, reason classes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from fivelink_intake.discovery import BatchError
from fivelink_intake.discovery_service import reason_class
from fivelink_intake.domain import cases as dc
from fivelink_intake.domain import offers as do
from fivelink_shared.events import NeedLine, NeedType, Urgency

LINES = (
    NeedLine(line_id="c-1-l1", need_type=NeedType.FOOD, quantity=10, unit="kg"),
    NeedLine(line_id="c-1-l2", need_type=NeedType.MEDICAL_AID, quantity=500, unit="CNY"),
)


def test_update_line_changes_only_that_line() -> None:
    lines = dc.update_line(LINES, "c-1-l1", dc.LineUpdate(quantity=12, urgency=Urgency.HIGH))
    assert (lines[0].quantity, lines[0].urgency) == (12, Urgency.HIGH)
    assert lines[1] == LINES[1]
    with pytest.raises(LookupError):
        dc.update_line(LINES, "c-1-l9", dc.LineUpdate(quantity=1))


def test_add_and_remove_lines() -> None:
    added = dc.add_line(LINES, "c-1-l3", dc.NeedLineIn(need_type="food", quantity=1, unit="kg"))
    assert [x.line_id for x in added] == ["c-1-l1", "c-1-l2", "c-1-l3"]
    assert [x.line_id for x in dc.remove_line(added, "c-1-l2")] == ["c-1-l1", "c-1-l3"]
    with pytest.raises(LookupError):
        dc.remove_line(LINES, "nope")


def test_need_card_has_no_identifying_fields() -> None:
    case = {
        "county": "150102",
        "case_id": "c-1",
        "person_ref": "p-1",
        "categories": ["mental_disorder"],
        "region": {"county": "150102", "township": "150102001", "community": "150102001002"},
        "opened_at": "2025-01-01T00:00:00Z",
        "lines": [line.model_dump(mode="json") for line in LINES],
    }
    card = dc.need_card(case, "n-abc", "open")
    text = str(card)
    for secret in ("c-1", "p-1", "mental_disorder", "150102001002"):
        assert secret not in text
    assert card["lines"][0] == {
        "need_type": "food",
        "quantity": 10.0,
        "unit": "kg",
        "urgency": "normal",
        "deadline": None,
    }


def test_person_ids_are_checked_and_shared_with_discovery_refs() -> None:
    consent = {"given_by": "self", "given_at": datetime.now(UTC), "purposes": ["matching"]}
    with pytest.raises(ValidationError, match="check digit"):
        dc.PersonIn(id_number="110105194912310021", consent=consent)
    person = dc.PersonIn(id_number="11010519491231002x", consent=consent)
    key = b"unit-test-key-0123456789"
    from fivelink_intake.discovery.identity import id_ref

    assert dc.person_ref(key, person, fallback="c-1") == id_ref("11010519491231002X", key)


def test_stock_correction() -> None:
    assert do.StockCorrection(delta=-5).apply(50) == 45
    assert do.StockCorrection(quantity=7).apply(50) == 7
    with pytest.raises(ValueError, match="below zero"):
        do.StockCorrection(delta=-51).apply(50)
    with pytest.raises(ValidationError):
        do.StockCorrection(delta=1, quantity=1)
    with pytest.raises(ValidationError):
        do.StockCorrection()


def test_offer_update_keeps_kind_rules() -> None:
    body = do.OfferCreate(
        org_id="org-1",
        kind="goods",
        item="rice",
        region={"county": "150102"},
        need_types=["food"],
        quantity=10,
        unit="kg",
    ).model_dump(mode="json")
    assert do.updated_body(body, do.OfferUpdate(quantity=20)).quantity == 20
    with pytest.raises(ValidationError, match="item"):
        do.updated_body(body, do.OfferUpdate(item=""))


@pytest.mark.parametrize(
    ("reason", "field", "label"),
    [
        ("bad JSON: Expecting value", "", "bad_format"),
        ("duplicate signal_id, first seen on line 3", "signal_id", "duplicate"),
        ("Field required", "kind", "missing_field"),
        ("Extra inputs are not permitted", "surname", "unknown_field"),
        ("is in the future", "observed_at", "future"),
        ("value for hospital_bill must be within 0..10000000", "value", "invalid_value"),
    ],
)
def test_rejected_record_reasons_are_bounded(reason: str, field: str, label: str) -> None:
    assert reason_class(BatchError(line=2, field=field, reason=reason)) == label
