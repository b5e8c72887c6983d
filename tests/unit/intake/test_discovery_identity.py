"""Identifier normalisation and pseudonymous refs."""

from __future__ import annotations

import pytest
from discovery_support import KEY, make_id

from fivelink_intake.discovery.identity import (
    id_check_digit,
    id_ref,
    normalize_id_number,
    normalize_name,
    normalize_phone,
    phone_name_ref,
)


def test_check_digit_of_the_published_gb11643_example() -> None:
    # The worked example of GB 11643-1999: 11010519491231002X.
    assert id_check_digit("11010519491231002") == "X"
    assert normalize_id_number("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("raw", [" 110105 19491231 002x ", "１１０１０５１９４９１２３１００２Ｘ"])
def test_id_number_is_normalised(raw: str) -> None:
    assert normalize_id_number(raw) == "11010519491231002X"


def test_fifteen_digit_id_is_upgraded() -> None:
    # 1st-generation number 110105491231002 is 11010519491231002X in 18 digits.
    assert normalize_id_number("110105491231002") == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("110105194912310021", "check digit"),
        ("11010519491231002", "18 characters"),
        ("1101051949123100XX", "18 characters"),
        ("110105194902300020", "birth date"),
    ],
)
def test_bad_id_numbers_are_rejected_without_echoing_them(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as info:
        normalize_id_number(raw)
    assert raw not in str(info.value)


@pytest.mark.parametrize(
    "raw",
    ["13800001111", "+86 138 0000 1111", "+86-138-0000-1111", "008613800001111", "8613800001111"],
)
def test_mobile_numbers_are_normalised(raw: str) -> None:
    assert normalize_phone(raw) == "13800001111"


def test_landline_keeps_its_area_code() -> None:
    assert normalize_phone("(0471) 123-4567") == "04711234567"


@pytest.mark.parametrize("raw", ["12345", "+1 415 555 0100", "1380000111a", "23800001111"])
def test_bad_phones_are_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="phone"):
        normalize_phone(raw)


def test_names_compare_without_spaces_case_or_dot_variants() -> None:
    assert normalize_name(" 王  芳 ") == normalize_name("王芳")
    assert normalize_name("巴特•尔") == normalize_name("巴特·尔")
    assert normalize_name("Zhang San") == normalize_name("zhangsan")


def test_refs_are_keyed_stable_and_distinct() -> None:
    idn = make_id(7)
    assert id_ref(idn, KEY) == id_ref(idn, KEY)
    assert id_ref(idn, KEY) != id_ref(idn, KEY + b"other")
    assert id_ref(idn, KEY) != id_ref(make_id(8), KEY)
    assert phone_name_ref("13800001111", "王芳", KEY) != phone_name_ref("13800001111", "王方", KEY)
    ref = id_ref(idn, KEY)
    assert ref.startswith("p-") and len(ref) == 34 and idn not in ref


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        id_ref(make_id(1), b"short")
