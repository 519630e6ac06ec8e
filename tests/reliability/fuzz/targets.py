"""atheris harnesses (coverage-guided) for masking, the kit's validation and the gateway's request validation.

Run as ``python -m tests.reliability.fuzz.targets <target> -runs=N``; a failed property raises, which atheris reports
as a crash (non-zero exit) with the input that caused it. Personal data in a finding is the fuzzer's own synthetic data.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports():
    from services.gateway.domain.identity import platform_from_uri_sans
    from services.gateway.usecases import enterprise_uscc
    from services.kit import masking, validation
    from services.kit.errors import InvalidArgument, Unauthenticated
    from services.registry.domain.sharing_list import load_sharing_list

REG_BASIC = load_sharing_list().item("REG_BASIC")
MASK = masking.MASK_CHAR


SEPARATORS = ["", " ", "-", "(", ")", "（", "）", "+86", "0086", "86"]
SURNAME_CHARS = "王李张刘陈杨黄赵吴周欧阳司马诸葛"
NAME_CHARS = "娜伟芳敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def _digits(fdp: atheris.FuzzedDataProvider, n: int) -> str:
    return "".join(str(fdp.ConsumeIntInRange(0, 9)) for _ in range(n))


def _id_number(fdp: atheris.FuzzedDataProvider) -> str:
    return _digits(fdp, 17) + str(fdp.PickValueInList(list("0123456789X")))


def _mobile(fdp: atheris.FuzzedDataProvider) -> tuple[str, str]:
    """A mainland mobile number and the same number written with separators and a country prefix."""
    compact = "1" + _digits(fdp, 10)
    written = str(fdp.PickValueInList(["", "+86", "0086", "86"])) + "".join(
        c + fdp.PickValueInList(SEPARATORS[:7]) for c in compact
    )
    return compact, written


def _name(fdp: atheris.FuzzedDataProvider) -> str:
    surname = fdp.PickValueInList(["王", "李", "张", "欧阳", "司马", "诸葛"])
    given = "".join(fdp.PickValueInList(list(NAME_CHARS)) for _ in range(fdp.ConsumeIntInRange(1, 3)))
    return str(surname) + given


def masking_target(data: bytes) -> None:
    """No ID number's birth date and sequence, no full mobile number and no given name survives masking, in the
    kit's masks and in the registry's record masking (REG_BASIC's personal fields); arbitrary text never raises."""
    fdp = atheris.FuzzedDataProvider(data)
    id_number, (mobile, written), name = _id_number(fdp), _mobile(fdp), _name(fdp)
    masked_id = masking.mask_id_number(id_number)
    assert id_number[6:14] not in masked_id, masked_id
    assert len(masked_id) == 18, masked_id
    masked_phone = masking.mask_phone(written)
    assert len(masked_phone) == 11, masked_phone
    assert masked_phone[3:7] == "****", masked_phone
    assert mobile not in masked_phone, masked_phone
    masked_name = masking.mask_name(name)
    keep = 2 if name[:2] in masking.COMPOUND_SURNAMES else 1
    assert set(masked_name[keep:]) == {"*"}, masked_name
    assert REG_BASIC is not None
    record = REG_BASIC.mask_personal(
        {"legal_representative": name, "legal_rep_id_number": id_number, "contact_phone": written}
    )
    assert id_number[6:14] not in str(record["legal_rep_id_number"]), record
    assert mobile not in re.sub(r"\D", "", str(record["contact_phone"])), record
    assert name not in str(record["legal_representative"]), record
    junk = fdp.ConsumeUnicodeNoSurrogates(200)
    for kind in masking.MaskKind:
        out = masking.mask(kind, junk)
        assert not junk or MASK in out, (kind, out)


def validation_target(data: bytes) -> None:
    """Validation accepts or refuses with InvalidArgument, never another exception; what it accepts is clean."""
    fdp = atheris.FuzzedDataProvider(data)
    value = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 300))
    checks: list[Callable[[], str]] = [
        lambda: validation.text("f", value, max_len=64),
        lambda: validation.identifier("f", value),
        lambda: validation.resource_id("f", value, "platforms"),
        lambda: validation.request_id(value),
        lambda: enterprise_uscc(value),
        lambda: enterprise_uscc("enterprises/" + value),
    ]
    for i, check in enumerate(checks):
        try:
            out = check()
        except InvalidArgument as exc:
            reason = exc.reason
            if not reason.startswith("ERROR_REASON_"):
                raise AssertionError(reason) from exc
            continue
        if i == 0:
            assert len(out) <= 64, out
            assert not any(ord(c) < 32 and c not in "\n\t" for c in out), out
        elif i == 1:
            assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]", out), out
        elif i >= 4:
            assert re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}", out), out
    uris = [fdp.ConsumeUnicodeNoSurrogates(80) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    if fdp.ConsumeBool():
        uris.append("spiffe://creditnode/platforms/" + fdp.ConsumeUnicodeNoSurrogates(20))
    try:
        platform = platform_from_uri_sans(uris)
    except Unauthenticated:
        return
    assert platform.startswith("platforms/"), platform
    assert "/" not in platform.removeprefix("platforms/"), platform


TARGETS = {"masking": masking_target, "validation": validation_target}

if __name__ == "__main__":
    atheris.Setup([sys.argv[0], *sys.argv[2:]], TARGETS[sys.argv[1]])
    atheris.Fuzz()
