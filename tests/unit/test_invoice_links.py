"""Invoice links: HMAC-signed tokens that name an invoice and verify without a lookup."""

from __future__ import annotations

import base64

import pytest

from adapters.invoice_links import InvoiceLinks

INVOICE_ID = "0b6a3c56-8e1f-4c43-9a38-0f6f4ad1c2e9"


def links(*secrets: str) -> InvoiceLinks:
    return InvoiceLinks(secrets=secrets or ("s3cret",), base_url="https://pay.example/")


def test_a_signed_token_verifies_back_to_its_invoice_id() -> None:
    token = links().token_for(INVOICE_ID)
    assert links().invoice_id(token) == INVOICE_ID


def test_the_url_is_the_base_url_then_the_page_path_then_the_token() -> None:
    signer = links()
    assert signer.url_for(INVOICE_ID) == f"https://pay.example/i/{signer.token_for(INVOICE_ID)}"


def test_a_token_is_url_safe_base64_without_padding() -> None:
    token = links().token_for(INVOICE_ID)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_two_invoices_get_different_tokens_and_the_same_invoice_the_same_one() -> None:
    assert links().token_for("inv_a") != links().token_for("inv_b")
    assert links().token_for("inv_a") == links().token_for("inv_a")


def test_a_token_signed_with_another_secret_does_not_verify() -> None:
    assert links("other").invoice_id(links("s3cret").token_for(INVOICE_ID)) is None


def test_during_a_rotation_old_and_new_secrets_verify_and_the_first_one_signs() -> None:
    # Given links signed before the rotation, and the new secret configured first
    old_token = links("old").token_for(INVOICE_ID)
    rotating = links("new", "old")
    # Then both old and new links open, and new links are signed with the new secret
    assert rotating.invoice_id(old_token) == INVOICE_ID
    assert links("new").invoice_id(rotating.token_for(INVOICE_ID)) == INVOICE_ID


@pytest.mark.parametrize("cut", [1, 2, 10, 43, 60])
def test_a_truncated_token_does_not_verify(cut: int) -> None:
    token = links().token_for(INVOICE_ID)
    assert links().invoice_id(token[:-cut]) is None


def test_a_token_with_any_one_character_changed_does_not_verify() -> None:
    token = links().token_for(INVOICE_ID)
    for position in range(len(token)):
        replacement = "A" if token[position] != "A" else "B"
        tampered = token[:position] + replacement + token[position + 1:]
        assert links().invoice_id(tampered) is None, position


def test_a_token_renamed_to_another_invoice_with_its_mac_kept_does_not_verify() -> None:
    # Given a genuine token, its MAC kept but the invoice id swapped for another one
    raw = base64.urlsafe_b64decode(links().token_for("inv_a") + "==")
    forged = base64.urlsafe_b64encode(raw[:33] + b"inv_b").rstrip(b"=").decode()
    # Then it opens nothing
    assert links().invoice_id(forged) is None


@pytest.mark.parametrize("garbage", ["", "x", "not base64 !", "é" * 40, "A" * 5000,
                                     "AAAA" * 20, "_-" * 50])
def test_garbage_does_not_verify_and_does_not_raise(garbage: str) -> None:
    assert links().invoice_id(garbage) is None


def test_links_refuse_to_be_built_without_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        InvoiceLinks(secrets=(), base_url="https://pay.example")
    with pytest.raises(ValueError, match="secret"):
        InvoiceLinks(secrets=("",), base_url="https://pay.example")
