from datetime import timedelta

import pytest

from trip_shared.web.signed_links import InvalidLink, LinkSigner

signer = LinkSigner("a-secret-of-sixteen-chars")


def test_a_link_verifies_for_its_purpose_and_carries_its_claims():
    token, expires_at = signer.sign("profile", "acme", "c-1", timedelta(days=7))
    claims = signer.verify(token, "profile")
    assert (claims.tenant_id, claims.subject_id) == ("acme", "c-1")
    assert abs((claims.expires_at - expires_at).total_seconds()) < 1


def test_a_link_for_another_purpose_an_altered_or_foreign_link_is_refused():
    token, _ = signer.sign("profile", "acme", "c-1", timedelta(days=7))
    with pytest.raises(InvalidLink):
        signer.verify(token, "proposal")
    body, signature = token.split(".")
    forged_body, _ = LinkSigner("a-secret-of-sixteen-chars").sign("profile", "other", "c-9", timedelta(days=7))
    with pytest.raises(InvalidLink):
        signer.verify(forged_body.split(".")[0] + "." + signature, "profile")
    with pytest.raises(InvalidLink):
        LinkSigner("another-secret-entirely").verify(token, "profile")
    with pytest.raises(InvalidLink):
        signer.verify("garbage", "profile")


def test_an_expired_link_is_refused_with_its_own_code():
    token, _ = signer.sign("profile", "acme", "c-1", timedelta(seconds=-1))
    with pytest.raises(InvalidLink) as error:
        signer.verify(token, "profile")
    assert error.value.code == "link-expired"


@pytest.mark.parametrize("expiry", [10**20, -(10**20), 1e308, "soon", None])
def test_a_correctly_signed_link_with_an_absurd_expiry_is_refused_not_a_crash(expiry):
    import base64
    import json

    body = base64.urlsafe_b64encode(json.dumps({"p": "profile", "t": "acme", "s": "c-1", "e": expiry}).encode())
    body_text = body.decode().rstrip("=")
    token = f"{body_text}.{signer._signature(body_text)}"
    with pytest.raises(InvalidLink):
        signer.verify(token, "profile")
