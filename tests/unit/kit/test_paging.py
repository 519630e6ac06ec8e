"""Page tokens: bound to their query, and a numeric position is ASCII digits only."""

from __future__ import annotations

import pytest

from services.kit.errors import InvalidArgument
from services.kit.paging import decode_index_token, decode_token, encode_token


def test_a_token_continues_only_its_own_query() -> None:
    token = encode_token("42", ["q", 1])
    assert decode_token(token, ["q", 1]) == "42"
    assert decode_index_token(token, ["q", 1]) == 42
    assert decode_index_token("", ["q", 1]) is None
    with pytest.raises(InvalidArgument):
        decode_token(token, ["q", 2])


@pytest.mark.parametrize("position", ["-1", "+1", "1.5", "abc", "١٢", "1 2", "", "9" * 19])
def test_a_numeric_position_that_is_not_plain_digits_is_a_bad_token(position: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        decode_index_token(encode_token(position, "q"), "q")
    assert err.value.reason == "ERROR_REASON_INVALID_PAGE_TOKEN"


@pytest.mark.parametrize("position", ["a\x00b", "tab\there", "x" * 513])
def test_a_position_no_list_issues_is_a_bad_token(position: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        decode_token(encode_token(position, "q"), "q")
    assert err.value.reason == "ERROR_REASON_INVALID_PAGE_TOKEN"
