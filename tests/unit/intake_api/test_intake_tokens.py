"""Bearer tokens: issue, verify, refuse what is wrong."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from fivelink_intake.auth import InvalidToken, JwtVerifier, issue_token
from fivelink_intake.domain.access import Role
from fivelink_intake.settings import DEV_TOKEN_SECRET
from fivelink_intake.tokens import issue, main

SECRET = "unit-test-secret-0123456789abcdef-xyz"


def test_issued_token_verifies_to_the_principal() -> None:
    token = issue_token(
        SECRET, role="social_worker", sub="sw-1", county="150102", township="150102001"
    )
    p = JwtVerifier(SECRET).verify(token)
    assert (p.sub, p.role, p.county, p.township, p.community) == (
        "sw-1",
        Role.SOCIAL_WORKER,
        "150102",
        "150102001",
        "",
    )


def test_helper_uses_the_settings_secret() -> None:
    token = issue(role="charity", sub="c-1", org_id="org-1")
    assert JwtVerifier(DEV_TOKEN_SECRET).verify(token).org_id == "org-1"


@pytest.mark.parametrize(
    "claims",
    [
        {"role": "social_worker", "sub": "sw-1"},  # no region
        {"role": "supervisor", "sub": "sup-1"},
        {"role": "charity", "sub": "c-1"},  # no org
        {"role": "root", "sub": "x"},
    ],
)
def test_tokens_that_do_not_fit_a_role_are_not_signed(claims: dict[str, str]) -> None:
    with pytest.raises(InvalidToken):
        issue_token(SECRET, **claims)


def test_wrong_secret_expired_and_garbage_are_refused() -> None:
    verifier = JwtVerifier(SECRET)
    with pytest.raises(InvalidToken, match="not valid"):
        verifier.verify(issue_token("another-secret-0123456789abcdef-xyz", role="admin", sub="a"))
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(issue_token(SECRET, role="admin", sub="a", ttl=timedelta(seconds=-5)))
    with pytest.raises(InvalidToken):
        verifier.verify("not.a.token")
    unsigned = jwt.encode({"sub": "a", "role": "admin"}, key="", algorithm="none")
    with pytest.raises(InvalidToken):
        verifier.verify(unsigned)


def test_cli_prints_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--role", "social_worker", "--sub", "sw-1", "--county", "150102"]) == 0
    token = capsys.readouterr().out.strip()
    assert JwtVerifier(DEV_TOKEN_SECRET).verify(token).county == "150102"
    with pytest.raises(SystemExit):
        main(["--role", "charity", "--sub", "c-1"])  # no --org-id
