"""`fivelink_matcher.cli what-if` against the real matcher: it prints what a hypothetical
offer would change and nothing is published."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from test_matcher_service import assignment_events, county, need, offer, proposed, publish, until
from typer.testing import CliRunner

from fivelink_cli import infra
from fivelink_matcher.cli import app
from fivelink_shared import topics

pytestmark = pytest.mark.integration


async def test_what_if_cli_prints_the_changes_and_publishes_nothing(
    stack: infra.Stack, tmp_path: Path
) -> None:
    cty = county()
    line = need(cty, qty=25)
    await publish(stack, (topics.NEEDS, line))
    url = stack.url("matcher")
    auth = stack.service_headers()
    await until(lambda: httpx.get(f"{url}/v1/unmet", params={"county": cty}, headers=auth).json())
    hypothetical = offer(cty, qty=25)
    path = tmp_path / "offer.json"
    path.write_text(json.dumps(hypothetical.model_dump(mode="json")))
    args = ["what-if", "--url", url, "--county", cty, "--offer", str(path)]
    out = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert out.exit_code == 0, out.output
    assert "would propose 1, withdraw 0, keep 0" in out.stdout
    assert f"<- {hypothetical.offer_id} 25" in out.stdout
    out = await asyncio.to_thread(CliRunner().invoke, app, [*args, "--json"])
    doc = json.loads(out.stdout)
    assert doc["changes"]["proposed"][0]["offer_id"] == hypothetical.offer_id
    assert await assignment_events(stack, cty, settle_s=2.0) == []
    assert proposed(stack, cty) == []
