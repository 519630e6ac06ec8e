"""Record ids, idempotency digests and content fingerprints hash exactly the JSON text json.dumps gives.

They are stored, so the text they hash must never change: these hold the fast spelling equal to the reference one."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain.ledger import record_id_of
from services.registry.domain.records import IdempotencyKey, canonical_text, content_fingerprint

# Any text, including quotes, backslashes, control characters and Chinese, to stress the escaping.
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
values = st.one_of(texts, st.integers(), st.booleans(), st.decimals(allow_nan=False, allow_infinity=False),
                   st.dates(min_value=date(1900, 1, 1)))  # fmt: skip


@given(texts, texts, texts, st.integers(min_value=1, max_value=10**6))
def test_ids_and_digests_hash_the_text_json_dumps_gives(dept: str, item: str, source: str, version: int) -> None:
    key = IdempotencyKey(dept, item, source, version)
    reference_id = json.dumps([dept, item, source], separators=(",", ":"))
    assert record_id_of(key) == hashlib.sha256(reference_id.encode()).hexdigest()[:32]
    reference_digest = json.dumps([dept, item, source, str(version)], separators=(",", ":"))
    assert key.digest == hashlib.sha256(reference_digest.encode()).hexdigest()


@given(texts, texts, texts, st.dictionaries(texts, values, max_size=6))
def test_fingerprints_hash_the_text_json_dumps_gives(
    dept: str, item: str, uscc: str, fields: dict[str, str | int | bool | Decimal | date]
) -> None:
    payload = [dept, item, uscc, sorted((k, canonical_text(v)) for k, v in fields.items())]
    reference = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    assert content_fingerprint(dept, item, uscc, fields) == hashlib.sha256(reference.encode()).hexdigest()


def test_a_known_id_never_changes() -> None:
    # Pinned from the stored form: a change here would orphan every record already stored.
    key = IdempotencyKey("sx-tax", "TAX_PAYMENT", '陕税-1\t"x"', 2)
    assert record_id_of(key) == "8f8278f29c766ebe4014ab6ecfa8026f"
