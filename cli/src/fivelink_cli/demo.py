"""The demo scenario: one county in Inner Mongolia (Hohhot's Xincheng district, 150102),
three communities, people in several categories with needs of several kinds, and offers of
money, goods and social workers' time. All names are fictional and never leave intake.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

COUNTY = "150102"
TOWNSHIP = "150102001"
COMMUNITIES = {
    "150102001001": (40.852, 111.690),
    "150102001002": (40.861, 111.705),
    "150102001003": (40.842, 111.721),
}

ORGS = ("org-redcross-hohhot", "org-grassland-food-bank", "org-xincheng-sw-station")


def _consent() -> dict[str, Any]:
    return {
        "given_by": "self",
        "given_at": datetime.now(UTC).isoformat(),
        "purposes": ["matching", "notification"],
    }


def _place(community: str) -> dict[str, Any]:
    lat, lon = COMMUNITIES[community]
    return {
        "region": {"county": COUNTY, "township": TOWNSHIP, "community": community},
        "location": {"lat": lat, "lon": lon},
    }


def needs() -> list[dict[str, Any]]:
    """Cases for the demo (one plan per person)."""
    week = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    c1, c2, c3 = COMMUNITIES
    return [
        {
            **_place(c1),
            "person": {
                "name": "演示甲",
                "categories": ["minimum_living", "disabled"],
                "language": "zh",
                "consent": _consent(),
            },
            "lines": [
                {
                    "need_type": "medical_aid",
                    "quantity": 3000,
                    "unit": "CNY",
                    "urgency": "high",
                    "deadline": week,
                },
                {
                    "need_type": "home_care_visit",
                    "quantity": 1,
                    "unit": "visit",
                    "urgency": "normal",
                },
            ],
        },
        {
            **_place(c2),
            "person": {
                "name": "演示乙",
                "categories": ["elderly_alone"],
                "language": "mn",
                "consent": _consent(),
            },
            "lines": [
                {
                    "need_type": "food",
                    "quantity": 20,
                    "unit": "kg",
                    "urgency": "high",
                    "deadline": week,
                },
                {
                    "need_type": "psychological_support",
                    "quantity": 1,
                    "unit": "visit",
                    "urgency": "normal",
                    "languages": ["mn"],
                },
            ],
        },
        {
            **_place(c3),
            "person": {
                "name": "演示丙",
                "categories": ["left_behind_child"],
                "language": "zh",
                "consent": _consent(),
            },
            "lines": [
                {"need_type": "education_aid", "quantity": 1500, "unit": "CNY", "urgency": "normal"}
            ],
        },
        {
            **_place(c1),
            "person": {
                "name": "演示丁",
                "categories": ["extreme_poverty"],
                "language": "zh",
                "consent": _consent(),
            },
            "lines": [
                {
                    "need_type": "living_aid",
                    "quantity": 2000,
                    "unit": "CNY",
                    "urgency": "crisis",
                    "deadline": week,
                },
                {"need_type": "food", "quantity": 15, "unit": "kg", "urgency": "high"},
            ],
        },
    ]


def offers() -> list[dict[str, Any]]:
    """Offers for the demo: money with earmarks, goods with expiry, social workers."""
    month = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    c1, c2, _ = COMMUNITIES
    return [
        {
            "org_id": ORGS[0],
            "kind": "money",
            **_place(c1),
            "need_types": ["medical_aid", "living_aid", "education_aid"],
            "quantity": 6000,
            "unit": "CNY",
            "valid_until": month,
            "earmarks": {
                "categories": ["minimum_living", "extreme_poverty", "left_behind_child", "disabled"]
            },
        },
        {
            "org_id": ORGS[1],
            "kind": "goods",
            **_place(c2),
            "need_types": ["food"],
            "quantity": 30,
            "unit": "kg",
            "item": "rice",
            "valid_until": month,
            "delivery_radius_km": 15,
        },
        {
            "org_id": ORGS[2],
            "kind": "people",
            **_place(c1),
            "need_types": ["home_care_visit", "psychological_support", "verification_visit"],
            "quantity": 20,
            "unit": "hour",
            "worker_id": "sw-bayar",
            "skills": ["counselling"],
            "languages": ["zh", "mn"],
            "caseload_cap": 5,
        },
    ]


def parties() -> list[tuple[str, str]]:
    """(party_id, role) of everyone the demo subscribes to notifications."""
    return [
        (ORGS[0], "charity"),
        (ORGS[1], "charity"),
        (ORGS[2], "charity"),
        ("sw-bayar", "social_worker"),
    ]
