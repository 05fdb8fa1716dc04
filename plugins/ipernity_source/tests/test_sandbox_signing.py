"""Signature helper of the sandbox against the two documented test vectors (reference §2.2)."""

from migrator_ipernity.sandbox.signing import api_sig, check, link_sig, sign, signature_base

KEY = "6fa87ba500002712bd4eed6020f3bd72"
SECRET = "e9a599f0cf6ce193"


def test_method_call_vector():
    params = {"api_key": KEY, "doc_id": "1234", "keywords": "easy"}
    assert signature_base(params, "doc.tags.add", SECRET) == (
        "api_key6fa87ba500002712bd4eed6020f3bd72doc_id1234keywordseasydoc.tags.adde9a599f0cf6ce193")
    assert api_sig(params, "doc.tags.add", SECRET) == "a269b218feb341ef03bc093a0f2c8078"


def test_auth_link_vector():
    params = {"api_key": KEY, "perm_network": "read"}
    assert signature_base(params, None, SECRET) == (
        "api_key6fa87ba500002712bd4eed6020f3bd72perm_networkreade9a599f0cf6ce193")
    assert link_sig(params, SECRET) == "da183021cd39461108770b822fcd9398"
    assert api_sig(params, "", SECRET) == "da183021cd39461108770b822fcd9398"


def test_order_of_parameters_does_not_matter_and_api_sig_file_are_ignored():
    a = {"keywords": "easy", "doc_id": "1234", "api_key": KEY}
    b = {"api_key": KEY, "doc_id": "1234", "keywords": "easy", "api_sig": "x", "file": b"\x00\x01"}
    assert api_sig(a, "doc.tags.add", SECRET) == api_sig(b, "doc.tags.add", SECRET)


def test_raw_utf8_values_are_signed_not_url_encoded():
    params = {"api_key": KEY, "title": "Caf\u00e9 & co/x"}
    base = signature_base(params, "doc.set", SECRET)
    assert "titleCaf\u00e9 & co/x" in base
    assert "%" not in base


def test_empty_values_are_signed():
    assert api_sig({"a": "", "b": "1"}, "m", "s") != api_sig({"b": "1"}, "m", "s")


def test_sign_and_check_roundtrip():
    signed = sign({"api_key": KEY, "doc_id": 1234, "keywords": "easy"}, "doc.tags.add", SECRET)
    assert signed["api_sig"] == "a269b218feb341ef03bc093a0f2c8078"
    assert signed["doc_id"] == "1234"
    assert check(signed, "doc.tags.add", SECRET)
    assert not check(signed, "doc.tags.remove", SECRET)
    assert not check({**signed, "doc_id": "1235"}, "doc.tags.add", SECRET)
    assert check({**signed, "api_sig": signed["api_sig"].upper()}, "doc.tags.add", SECRET)
