import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kejiyun.accounts.validators import (
    USCC_ALPHABET,
    is_valid_mobile,
    is_valid_uscc,
    normalise_mobile,
    normalise_uscc,
    uscc_check_character,
    validate_mobile,
    validate_uscc,
)
from kejiyun.common.masking import mask_id_number, mask_mobile

# Codes printed on real business licences (public registry data).
REAL_USCC = [
    "91330100716105852F",
    "9144030071526726XG",
    "914403001922038216",
    "91110000600037341L",
    "91350100M000100Y43",
]


@pytest.mark.parametrize("code", REAL_USCC)
def test_real_unified_social_credit_codes_are_accepted(code: str) -> None:
    assert is_valid_uscc(code)
    validate_uscc(code)


@pytest.mark.parametrize(
    ("code", "error_code"),
    [
        ("91330100716105852G", "uscc_check"),  # wrong check character
        ("9133010071610585", "uscc_length"),  # too short
        ("91330100716105852FF", "uscc_length"),  # too long
        ("91330100716105852I", "uscc_chars"),  # I is not in the alphabet
        ("9133010071610585O2", "uscc_chars"),  # nor is O
        ("0133010071610585XX", "uscc_check"),  # 0 is no registering authority
        ("91AB0100716105852F", "uscc_check"),  # region part must be digits
    ],
)
def test_malformed_unified_social_credit_codes_are_refused(code: str, error_code: str) -> None:
    assert not is_valid_uscc(code)
    with pytest.raises(ValidationError) as info:
        validate_uscc(code)
    assert info.value.code == error_code


def test_uscc_input_is_normalised_to_upper_case_without_spaces() -> None:
    assert normalise_uscc(" 9144 0300 7152 6726xg ") == "9144030071526726XG"


@given(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))
def test_a_code_with_a_computed_check_character_is_valid_and_any_other_is_not(
    serial: str,
) -> None:
    first17 = "91510104" + serial
    check = uscc_check_character(first17)
    assert is_valid_uscc(first17 + check)
    for other in USCC_ALPHABET:
        if other != check:
            assert not is_valid_uscc(first17 + other)


@pytest.mark.parametrize("mobile", ["13800138000", "19912345678", "15528001234", "17708123456"])
def test_mainland_mobile_numbers_are_accepted(mobile: str) -> None:
    assert is_valid_mobile(mobile)
    validate_mobile(mobile)


@pytest.mark.parametrize(
    "mobile", ["12800138000", "1380013800", "138001380001", "23800138000", "1380013800a", ""]
)
def test_malformed_mobile_numbers_are_refused(mobile: str) -> None:
    assert not is_valid_mobile(mobile)
    with pytest.raises(ValidationError) as info:
        validate_mobile(mobile)
    assert info.value.code == "invalid_mobile"


def test_mobile_input_loses_spaces_dashes_and_country_prefix() -> None:
    assert normalise_mobile("+86 138-0013-8000") == "13800138000"
    assert normalise_mobile("0086 13800138000") == "13800138000"


def test_masking_keeps_only_the_ends() -> None:
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_id_number("510104199001011234") == "5101**********1234"
    assert mask_mobile("123") == "***"
    assert mask_id_number("12345") == "*****"
