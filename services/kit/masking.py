"""Masking (desensitization) of personal information by kind, following common Chinese display practice."""

from __future__ import annotations

import re
from enum import StrEnum

MASK_CHAR = "*"

# FULL hides the length too: a fixed run of stars says "something was here" and nothing else.
FULL_MASK = MASK_CHAR * 6

# Two-character surnames (复姓) kept whole, so 欧阳娜娜 becomes 欧阳** rather than 欧***.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "公孙", "夏侯", "尉迟", "长孙", "宇文",
        "司徒", "司空", "轩辕", "端木", "西门", "南宫", "独孤", "呼延", "澹台", "公冶", "太史", "申屠", "万俟",
        "闻人", "赫连", "拓跋", "百里", "东郭", "钟离", "宗政", "濮阳", "淳于", "单于", "仲孙", "叔孙", "左丘",
        "谷梁", "第五", "亓官", "公良", "乐正", "羊舌", "微生", "梁丘", "漆雕", "壤驷", "巫马", "段干", "颛孙",
    }
)  # fmt: skip

_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
# A mobile number whose middle four are already masked is one too: masking it again shows it as it was.
_MOBILE = re.compile(rf"1[0-9]{{2}}(?:[0-9]{{4}}|{re.escape(MASK_CHAR)}{{4}})[0-9]{{4}}")
_MOBILE_COUNTRY_PREFIX = re.compile(r"(\+86|0086|86)(?=1[0-9]{10}$)")


class MaskKind(StrEnum):
    """How a personal field is masked; the sharing list names one for every personal field."""

    NAME = "NAME"
    ID_NUMBER = "ID_NUMBER"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    FULL = "FULL"


def _keep_ends(value: str, head: int, tail: int) -> str:
    hidden = len(value) - head - tail
    return value[:head] + MASK_CHAR * hidden + (value[len(value) - tail :] if tail else "")


def mask_full(value: str) -> str:
    """Hide everything, including the length; an empty value stays empty."""
    return FULL_MASK if value else ""


def mask_name(value: str) -> str:
    """Keep the surname (张* / 张** / 欧阳**), hide the given name; a one-character value is hidden whole.

    Whitespace around the name counts for nothing: "王 " is a one-character name (hidden whole, the space too), "欧阳 "
    a compound surname alone (欧* ); otherwise the name is masked as the bare name would be and the whitespace kept."""
    name = value.strip()
    if len(name) <= 1:
        return MASK_CHAR * len(value)
    keep = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
    lead = len(value) - len(value.lstrip())
    return value[:lead] + _keep_ends(name, keep, 0) + value[lead + len(name) :]


def mask_id_number(value: str) -> str:
    """Keep the region code and the last four of an 18-character ID (610103********123X).

    The birth date and sequence are what identify a person; they are always hidden. A 15-character (first
    generation) ID keeps region and last three; other documents (passports, permits) keep one character at each end.
    """
    if len(value) == 18:
        return _keep_ends(value, 6, 4)
    if len(value) == 15:
        return _keep_ends(value, 6, 3)
    if len(value) >= 8:
        return _keep_ends(value, 1, 2)
    return mask_full(value)


def mask_phone(value: str) -> str:
    """A mainland mobile number becomes 139****5678; another number keeps only its last four characters."""
    compact = _MOBILE_COUNTRY_PREFIX.sub("", _PHONE_SEPARATORS.sub("", value), count=1)
    if _MOBILE.fullmatch(compact):
        return _keep_ends(compact, 3, 4)
    if len(value) >= 8:
        return _keep_ends(value, 0, 4)
    return mask_full(value)


def mask_email(value: str) -> str:
    """Keep the first character of the mailbox and the domain: z***@example.com; the mailbox length is hidden."""
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return mask_full(value)
    # a mailbox already masked keeps no first character: its stars are not one
    head = local[0] if len(local) >= 2 and not local.startswith(MASK_CHAR) else ""
    return f"{head}{MASK_CHAR * 3}@{domain}"


_MASKERS = {
    MaskKind.NAME: mask_name,
    MaskKind.ID_NUMBER: mask_id_number,
    MaskKind.PHONE: mask_phone,
    MaskKind.EMAIL: mask_email,
    MaskKind.FULL: mask_full,
}


def mask(kind: MaskKind | str, value: str) -> str:
    """Mask ``value`` as ``kind`` (a MaskKind or its name); an unknown kind raises ValueError."""
    return _MASKERS[MaskKind(kind)](value)
