"""Issue a bearer token for intake's API (development and tests; production uses OIDC).

    uv run python -m fivelink_intake.tokens --role social_worker --sub sw-1 --county 150102
    uv run python -m fivelink_intake.tokens --role charity --sub c-1 --org-id org-red-cross

Prints the token. The secret is ``FIVELINK_TOKEN_SECRET`` (the dev default otherwise).
In code: ``issue(role="admin", sub="demo")``.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from fivelink_intake.auth import InvalidToken, issue_token
from fivelink_intake.domain.access import Role
from fivelink_intake.settings import IntakeSettings


def issue(
    *,
    role: str,
    sub: str,
    county: str = "",
    township: str = "",
    community: str = "",
    org_id: str = "",
    ttl_hours: float = 12,
    secret: str | None = None,
) -> str:
    """A signed token for ``Authorization: Bearer <token>``."""
    key = secret or IntakeSettings().token_secret.get_secret_value()
    return issue_token(
        key,
        role=role,
        sub=sub,
        county=county,
        township=township,
        community=community,
        org_id=org_id,
        ttl=timedelta(hours=ttl_hours),
    )


def bearer(**claims: Any) -> dict[str, str]:
    """``{"Authorization": "Bearer …"}`` for ``issue(**claims)``."""
    return {"Authorization": f"Bearer {issue(**claims)}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fivelink_intake.tokens", description=__doc__)
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--sub", required=True, help="who the token is for, e.g. sw-1")
    parser.add_argument("--county", default="", help="six-digit county code (region roles)")
    parser.add_argument("--township", default="")
    parser.add_argument("--community", default="")
    parser.add_argument("--org-id", default="", help="organisation id (charity)")
    parser.add_argument("--ttl-hours", type=float, default=12)
    args = parser.parse_args(argv)
    try:
        token = issue(
            role=args.role,
            sub=args.sub,
            county=args.county,
            township=args.township,
            community=args.community,
            org_id=args.org_id,
            ttl_hours=args.ttl_hours,
        )
    except InvalidToken as exc:
        parser.error(str(exc))
    print(token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
