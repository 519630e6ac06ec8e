"""Shared input checks refuse what they promise to refuse: control characters, ports that do not exist, datetimes."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.kit.config import ServiceSettings, SettingsError, load_settings
from services.kit.errors import InvalidArgument
from services.kit.validation import request_id, text
from services.kit.workdays import SHANGHAI, WorkCalendar


@pytest.mark.parametrize("control", ["\x00", "\r", "\x1b", "\x7f", "\x85", "\x9b"], ids=repr)
def test_text_refuses_every_control_character(control: str) -> None:
    with pytest.raises(InvalidArgument):
        text("reason", f"ab{control}cd", max_len=20)


@pytest.mark.parametrize("control", ["\x00", "\n", "\t", "\x7f", "\x85"], ids=repr)
def test_a_request_id_refuses_every_control_character(control: str) -> None:
    # stored as the key of a retry: PostgreSQL cannot store a NUL, and no caller's id holds a control character
    with pytest.raises(InvalidArgument) as err:
        request_id(f"req{control}1")
    assert err.value.metadata == {"field": "request_id", "problem": "contains control characters"}
    assert request_id("req-1") == "req-1"


def test_text_keeps_newlines_tabs_and_chinese() -> None:
    assert text("reason", " 第一行\n\t第二行 ", max_len=20) == "第一行\n\t第二行"


@pytest.mark.parametrize("addr", ["127.0.0.1:65536", "0.0.0.0:99999"])
def test_a_port_that_cannot_exist_is_refused_naming_the_variable(addr: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTEN_ADDR", addr)
    with pytest.raises(SettingsError) as err:
        load_settings(ServiceSettings)
    assert "LISTEN_ADDR" in str(err.value)
    assert addr not in str(err.value)


def test_the_highest_port_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTEN_ADDR", "0.0.0.0:65535")
    assert load_settings(ServiceSettings).listen_addr == "0.0.0.0:65535"


def test_a_datetime_is_not_mistaken_for_a_working_day() -> None:
    # A datetime is a date to Python, but never equal to one: a holiday's datetime was found in no holiday set.
    calendar = WorkCalendar.load()
    assert calendar.is_working_day(date(2025, 10, 1)) is False  # National Day
    with pytest.raises(TypeError):
        calendar.is_working_day(datetime(2025, 10, 1, 12, tzinfo=SHANGHAI))
    with pytest.raises(TypeError):
        calendar.add_working_days(datetime(2025, 9, 30, 12, tzinfo=SHANGHAI), 1)


@pytest.mark.parametrize("personal", ["13800138000", "loan-13800138000", "110101199003074514"])
def test_a_request_id_holding_a_personal_number_is_refused_as_evidence_would_refuse_it(personal: str) -> None:
    # Evidence leaves record request ids and refuse a payload holding one of these: refused up front instead.
    with pytest.raises(InvalidArgument) as err:
        request_id(personal)
    assert err.value.metadata["field"] == "request_id"
    assert personal not in err.value.message
    assert request_id("3f2b9c1e-13800138000x") == "3f2b9c1e-13800138000x"  # digits inside a token are no number
