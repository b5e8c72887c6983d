"""The access policy: each role × action × own / other region or organisation."""

from __future__ import annotations

import pytest

from fivelink_intake.domain.access import Action, Forbidden, Principal, Role, check, may
from fivelink_shared.events import Region

HOME = Region(county="150102", township="150102001", community="150102001002")
NEIGHBOUR_TOWNSHIP = Region(county="150102", township="150102002")
OTHER_COUNTY = Region(county="150105")

SW = Principal(sub="sw-1", role=Role.SOCIAL_WORKER, county="150102", township="150102001")
SUPERVISOR = Principal(sub="sup-1", role=Role.SUPERVISOR, county="150102")
CHARITY = Principal(sub="c-1", role=Role.CHARITY, org_id="org-1")
OPS = Principal(sub="ops-1", role=Role.OPS)
ADMIN = Principal(sub="a-1", role=Role.ADMIN)


@pytest.mark.parametrize(
    ("principal", "region", "allowed"),
    [
        (SW, HOME, True),
        (SW, NEIGHBOUR_TOWNSHIP, False),
        (SW, OTHER_COUNTY, False),
        (SUPERVISOR, HOME, True),
        (SUPERVISOR, NEIGHBOUR_TOWNSHIP, True),
        (SUPERVISOR, OTHER_COUNTY, False),
        (ADMIN, OTHER_COUNTY, True),
        (CHARITY, HOME, False),
        (OPS, HOME, False),
    ],
)
def test_case_write_is_limited_to_the_own_region(
    principal: Principal, region: Region, allowed: bool
) -> None:
    if allowed:
        check(principal, Action.CASE_WRITE, region=region)
    else:
        with pytest.raises(Forbidden):
            check(principal, Action.CASE_WRITE, region=region)


@pytest.mark.parametrize(
    ("role", "actions"),
    [
        (Role.CHARITY, {Action.CARD_READ, Action.OFFER_WRITE, Action.OFFER_READ}),
        (Role.OPS, {Action.CARD_READ}),
        (Role.SOCIAL_WORKER, set(Action) - {Action.OFFER_WRITE}),
        (Role.SUPERVISOR, set(Action) - {Action.OFFER_WRITE}),
        (Role.ADMIN, set(Action)),
    ],
)
def test_grants_per_role(role: Role, actions: set[Action]) -> None:
    principal = Principal(sub="x", role=role, county="150102", org_id="org-1")
    assert {a for a in Action if may(principal, a)} == actions


def test_charity_manages_only_its_own_offers() -> None:
    check(CHARITY, Action.OFFER_WRITE, org_id="org-1")
    with pytest.raises(Forbidden, match="organisation"):
        check(CHARITY, Action.OFFER_WRITE, org_id="org-2")
    with pytest.raises(Forbidden, match="may not"):
        check(CHARITY, Action.PERSONAL_READ)


def test_region_filter_names_every_level_of_the_token() -> None:
    assert SW.region_filter() == {"county": "150102", "township": "150102001"}
    assert SUPERVISOR.region_filter() == {"county": "150102"}
    assert ADMIN.region_filter() == {}
    assert CHARITY.region_filter() == {}
