"""The event schemas: versioned, frozen, pseudonymous, and round-trip through JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from fivelink_shared import events
from fivelink_shared.events import (
    NEED_EVENTS,
    EventBase,
    NeedLine,
    NeedOpened,
    NeedType,
    Region,
)

PERSONAL = {"name", "id_number", "phone", "address", "email", "birthday"}


def _models() -> list[type[BaseModel]]:
    return [
        obj
        for obj in vars(events).values()
        if isinstance(obj, type) and issubclass(obj, EventBase) and obj is not EventBase
    ]


def _fields(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    # ScoreTerm.name names a score term ("priority", "travel_km"), not a person
    seen = seen or {events.ScoreTerm}
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for arg in (*getattr(field.annotation, "__args__", ()), field.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel) and arg not in seen:
                seen.add(arg)
                names |= _fields(arg, seen)
    return names


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_event_is_versioned_and_carries_no_personal_field(model: type[BaseModel]) -> None:
    assert {"event_id", "occurred_at", "schema_version", "county", "correlation_id"} <= set(
        model.model_fields
    )
    assert "type" in model.model_fields
    assert not (_fields(model) & PERSONAL)


def _need(**overrides: object) -> NeedOpened:
    base: dict[str, object] = {
        "county": "150102",
        "case_id": "c-1",
        "person_ref": "p-1",
        "revision": 1,
        "region": Region(county="150102"),
        "opened_at": datetime.now(UTC),
        "lines": (NeedLine(line_id="c-1-l1", need_type=NeedType.FOOD, quantity=2, unit="kg"),),
    }
    return NeedOpened(**(base | overrides))  # type: ignore[arg-type]


def test_round_trip_through_json_by_discriminator() -> None:
    event = _need()
    parsed = NEED_EVENTS.validate_json(event.model_dump_json())
    assert parsed == event
    assert parsed.schema_version == events.SCHEMA_VERSION


def test_events_are_frozen_and_strict() -> None:
    event = _need()
    with pytest.raises(ValidationError):
        event.case_id = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        _need(name="Zhang San")  # an unknown (personal) field is refused
    with pytest.raises(ValidationError):
        _need(county="15010")  # not a six-digit county code
    with pytest.raises(ValidationError):
        _need(person_ref="张三")  # pseudonymous ids are ASCII tokens, not names
