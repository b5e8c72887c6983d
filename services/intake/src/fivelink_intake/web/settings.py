"""Settings of the web pages (env vars prefixed ``FIVELINK_``) and the demo users.

The demo users are for local runs and tests: each maps to a role and a region or
organisation, and all share one demo password. Set ``FIVELINK_WEB_DEMO_USERS='[]'`` to turn
demo sign-in off (production signs people in through OIDC instead).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

from fivelink_intake.domain.access import Role
from fivelink_shared.settings import CommonSettings


class DemoUser(BaseModel):
    """One sign-in of the demo: who it is and what their token will say."""

    sub: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=64, description="Shown in the page header")
    role: Role
    county: str = ""
    township: str = ""
    community: str = ""
    org_id: str = ""


#: The demo county is Xincheng district, Hohhot (150102), as in ``fivelink demo``;
#: 150103 (Huimin district) is a second county to show that regions are kept apart.
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        sub="sw-bayar",
        name="巴雅尔 Bayar",
        role=Role.SOCIAL_WORKER,
        county="150102",
        township="150102001",
    ),
    DemoUser(sub="sw-qiqige", name="其其格 Qiqige", role=Role.SOCIAL_WORKER, county="150103"),
    DemoUser(
        sub="charity-redcross",
        name="呼和浩特红十字会",
        role=Role.CHARITY,
        org_id="org-redcross-hohhot",
    ),
    DemoUser(
        sub="charity-foodbank",
        name="草原食物银行",
        role=Role.CHARITY,
        org_id="org-grassland-food-bank",
    ),
    DemoUser(sub="sup-xincheng", name="新城区社工站", role=Role.SUPERVISOR, county="150102"),
    DemoUser(sub="sup-huimin", name="回民区社工站", role=Role.SUPERVISOR, county="150103"),
)


class WebSettings(CommonSettings):
    """What the pages need beyond intake's own settings."""

    web_demo_users: list[DemoUser] = Field(default_factory=lambda: list(DEMO_USERS))
    web_demo_password: SecretStr = Field(
        default=SecretStr("demo"), description="Password of every demo user"
    )
    web_cookie_secure: bool = Field(
        default=False, description="Mark cookies Secure (set true behind HTTPS)"
    )
    web_session_hours: float = Field(default=12.0, gt=0, le=24 * 7)
    web_http_timeout_s: float = Field(default=5.0, gt=0)

    def demo_user(self, sub: str) -> DemoUser | None:
        return next((u for u in self.web_demo_users if u.sub == sub), None)
