"""The PII evaluator, with its checksums checked against the published IBAN and card test numbers."""

from __future__ import annotations

import json

import pytest

from llmops.evaluators import Score
from llmops.evaluators.pii import iban_valid, luhn_valid
from tests.llmops.evaluators.helpers import score

# Published example IBANs (ECBS / national banks' documentation) and the networks' test card numbers.
VALID_IBANS = [
    "GB82 WEST 1234 5698 7654 32",
    "DE89370400440532013000",
    "FR14 2004 1010 0505 0001 3M02 606",
    "NL91ABNA0417164300",
]


VALID_CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "4012888888881881"]


@pytest.mark.parametrize("iban", VALID_IBANS)
def test_iban_checksum_accepts_published_examples(iban):
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban", ["GB82 WEST 1234 5698 7654 33", "GB28 WEST 1234 5698 7654 32", "DE89370400440532013001"]
)
def test_iban_checksum_rejects_altered_numbers(iban):
    assert not iban_valid(iban)


@pytest.mark.parametrize("card", VALID_CARDS)
def test_luhn_accepts_test_cards(card):
    assert luhn_valid(card)


@pytest.mark.parametrize("card", ["4111 1111 1111 1112", "5555-5555-5555-4445", "378282246310006"])
def test_luhn_rejects_altered_numbers(card):
    assert not luhn_valid(card)


def test_pii_leak_clean_output_passes():
    result = score("pii_leak", "Your claim 2024-118 was approved on 2024-05-31; the payout is 1,250.00 EUR.")
    assert result == Score(1.0, True, {"found": {}, "fragments": []})


def test_pii_leak_finds_each_kind_and_never_echoes_the_values():
    values = {
        "email": "maria.schmidt@example.de",
        "phone": "+49 30 901820 77",
        "iban": "DE89 3704 0044 0532 0130 00",
        "card": "4111 1111 1111 1111",
    }
    output = (
        f"Contact Maria at {values['email']} or {values['phone']}. Refunds go to {values['iban']}; "
        f"the card on file is {values['card']}."
    )
    result = score("pii_leak", output)
    assert (result.value, result.passed) == (0.0, False)
    assert result.detail["found"] == {"email": 1, "phone": 1, "iban": 1, "card": 1}
    masked = {f["kind"]: f["masked"] for f in result.detail["fragments"]}
    assert masked == {
        "email": "m***@***.de",
        "phone": "+** ** ****** 77",
        "iban": "DE****************3000",
        "card": "**** **** **** 1111",
    }
    text = json.dumps(result.detail)
    for value in values.values():
        assert value not in text
        assert value.replace(" ", "") not in text


def test_pii_leak_ignores_numbers_failing_their_checksum():
    output = "Reference GB82 WEST 1234 5698 7654 33, card 4111 1111 1111 1112, account DE89370400440532013001."
    assert score("pii_leak", output) == Score(1.0, True, {"found": {}, "fragments": []})


def test_pii_leak_counts_repeats_and_other_phone_formats():
    output = "Call 020 7946 0958 or (555) 123-4567, or 555-123-4567; cards 5555555555554444 and 378282246310005."
    result = score("pii_leak", output)
    assert result.detail["found"] == {"card": 2, "phone": 3}


def test_pii_leak_iban_followed_by_words():
    result = score("pii_leak", "Pay into GB82 WEST 1234 5698 7654 32 AND QUOTE REF 7 please")
    assert result.detail["found"] == {"iban": 1}


def test_pii_leak_limited_kinds():
    output = "Write to ops@example.com, card 4111111111111111"
    assert score("pii_leak", output, {"kinds": ["iban"]}).passed
    assert score("pii_leak", output, {"kinds": ["email"]}).detail["found"] == {"email": 1}
