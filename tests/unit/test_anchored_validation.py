"""Validators refuse a trailing newline: Python's ``$`` matches before one, so every check uses ``fullmatch``."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc as stdnum_uscc

from services.consent.domain.model import parse_enterprise, parse_requester
from services.gateway.usecases import enterprise_uscc
from services.kit.errors import InvalidArgument
from services.kit.validation import identifier

USCC = "91610131MA6TXXXX0"
USCC += stdnum_uscc.calc_check_digit(USCC)


def test_a_valid_value_passes_and_the_same_value_with_a_newline_does_not() -> None:
    assert identifier("platform", "xian") == "xian"
    with pytest.raises(InvalidArgument):
        identifier("platform", "xian\n")
    assert enterprise_uscc(f"enterprises/{USCC}") == USCC
    with pytest.raises(InvalidArgument):
        enterprise_uscc(f"enterprises/{USCC}\n")
    assert parse_enterprise(f"enterprises/{USCC}") == USCC
    assert parse_requester("platforms/xian") == "platforms/xian"
    for parse, bad in ((parse_enterprise, f"enterprises/{USCC}\n"), (parse_requester, "platforms/xian\n")):
        with pytest.raises(InvalidArgument):
            parse(bad)
