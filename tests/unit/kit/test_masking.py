"""Masking of personal information: documented shapes, and properties showing the original never survives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.kit.masking import (
    FULL_MASK,
    MASK_CHAR,
    MaskKind,
    mask,
    mask_email,
    mask_full,
    mask_id_number,
    mask_name,
    mask_phone,
)

# Values are drawn without the mask character: a value made of stars has nothing left to hide.
HANZI = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
TEXT = st.text(st.characters(blacklist_characters=MASK_CHAR, blacklist_categories=("Cs",)), min_size=1, max_size=40)


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        (MaskKind.NAME, "张三", "张*"),
        (MaskKind.NAME, "张三丰", "张**"),
        (MaskKind.NAME, "欧阳娜娜", "欧阳**"),
        (MaskKind.NAME, "欧阳", "欧*"),
        (MaskKind.NAME, "王", "*"),
        (MaskKind.ID_NUMBER, "61010319850312123X", "610103********123X"),
        (MaskKind.ID_NUMBER, "610103850312123", "610103******123"),
        (MaskKind.ID_NUMBER, "E12345678", "E******78"),
        (MaskKind.ID_NUMBER, "1234", FULL_MASK),
        (MaskKind.PHONE, "13912345678", "139****5678"),
        (MaskKind.PHONE, "+86 139-1234-5678", "139****5678"),
        (MaskKind.PHONE, "029-88881234", "********1234"),
        (MaskKind.PHONE, "12345", FULL_MASK),
        (MaskKind.EMAIL, "zhangsan@example.com", "z***@example.com"),
        (MaskKind.EMAIL, "z@example.com", "***@example.com"),
        (MaskKind.EMAIL, "not-an-address", FULL_MASK),
        (MaskKind.FULL, "变更前内容", FULL_MASK),
        (MaskKind.FULL, "", ""),
    ],
)
def test_mask_follows_common_chinese_display_practice(kind: MaskKind, value: str, masked: str) -> None:
    assert mask(kind, value) == masked


def test_mask_accepts_the_kind_by_name_and_refuses_an_unknown_kind() -> None:
    assert mask("PHONE", "13912345678") == "139****5678"
    with pytest.raises(ValueError, match="NOPE"):
        mask("NOPE", "x")


@settings(deadline=None)
@given(st.sampled_from(list(MaskKind)), TEXT)
def test_no_kind_ever_returns_the_original(kind: MaskKind, value: str) -> None:
    masked = mask(kind, value)
    assert masked != value
    assert value not in masked


@settings(deadline=None)
@given(st.text(HANZI, min_size=1, max_size=6))
def test_a_name_keeps_at_most_its_surname(value: str) -> None:
    masked = mask_name(value)
    kept = len(masked.rstrip(MASK_CHAR))
    assert kept <= 2
    assert kept < len(value)
    assert len(masked) == len(value)


@settings(deadline=None)
@given(st.text(st.sampled_from("0123456789X"), min_size=18, max_size=18))
def test_an_id_number_never_shows_the_birth_date(value: str) -> None:
    masked = mask_id_number(value)
    assert masked[6:14] == MASK_CHAR * 8
    assert masked[:6] == value[:6]
    assert masked[-4:] == value[-4:]


@settings(deadline=None)
@given(st.sampled_from("3456789"), st.text(st.sampled_from("0123456789"), min_size=9, max_size=9))
def test_a_mobile_number_hides_its_middle_four_digits(second: str, rest: str) -> None:
    value = f"1{second}{rest}"
    masked = mask_phone(value)
    assert masked == value[:3] + "****" + value[-4:]


@settings(deadline=None)
@given(TEXT, TEXT)
def test_an_email_never_shows_more_than_one_character_of_the_mailbox(local: str, domain: str) -> None:
    local, domain = local.replace("@", "a"), domain.replace("@", "b")
    masked = mask_email(f"{local}@{domain}")
    assert masked.endswith(f"@{domain}")
    assert masked.split("@")[0].lstrip(local[0]) == MASK_CHAR * 3


@settings(deadline=None)
@given(TEXT)
def test_full_masking_hides_even_the_length(value: str) -> None:
    assert mask_full(value) == FULL_MASK


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (MaskKind.PHONE, "13912345678"),
        (MaskKind.PHONE, "+86 139-1234-5678"),
        (MaskKind.EMAIL, "z@example.com"),
    ],
)
def test_masking_a_masked_value_changes_nothing(kind: MaskKind, value: str) -> None:
    # A masked record shown again (a cached copy, an older version masked twice) must read the same.
    once = mask(kind, value)
    assert mask(kind, once) == once


@settings(deadline=None)
@given(st.sampled_from(list(MaskKind)), st.one_of(TEXT, st.from_regex(r"(\+86 ?)?1[3-9][0-9]{9}", fullmatch=True)))
def test_masking_is_idempotent(kind: MaskKind, value: str) -> None:
    once = mask(kind, value)
    assert mask(kind, once) == once


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("王 ", "**"),  # a one-character name with a trailing space is still hidden whole
        (" 王", "**"),
        ("欧阳 ", "欧* "),  # a compound surname alone keeps one character, as 欧阳 does
        (" 张三 ", " 张* "),
        ("欧阳娜娜\u3000", "欧阳**\u3000"),
    ],
)
def test_whitespace_around_a_name_shows_no_more_than_the_bare_name_would(value: str, masked: str) -> None:
    assert mask_name(value) == masked


@settings(deadline=None)
@given(st.text(HANZI, min_size=1, max_size=6), st.sampled_from(["", " ", "\u3000", "  "]), st.booleans())
def test_a_padded_name_keeps_at_most_what_the_bare_name_keeps(value: str, pad: str, before: bool) -> None:
    padded = pad + value if before else value + pad
    masked = mask_name(padded)
    assert masked.replace(MASK_CHAR, "").strip() == mask_name(value).replace(MASK_CHAR, "")
    assert len(masked) == len(padded)
    assert mask_name(masked) == masked
