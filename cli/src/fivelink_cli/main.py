"""``fivelink``: start the local stack, check it, stop it, and run the demo scenario."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from fivelink_cli import demo as scenario
from fivelink_cli import infra
from fivelink_cli.receiver import WebhookReceiver

app = typer.Typer(
    help="fivelink: five-society linkage matching, on one machine.", no_args_is_help=True
)
# Tables stay readable in logs and CI, where there is no terminal to size them by.
console = Console(width=None if sys.stdout.isatty() else 140)
SETTLE_POLLS = 6  # 3 s without a change in the proposals

StateDir = Annotated[Path, typer.Option(help="Where data, logs and pids live")]
PortBase = Annotated[int, typer.Option(help="Use ports BASE..BASE+6 instead of the defaults")]


def _stack(state_dir: Path, port_base: int) -> infra.Stack:
    ports = infra.Ports.from_base(port_base) if port_base else infra.Ports()
    return infra.Stack(state_dir, ports)


def _progress(message: str) -> None:
    console.print(f"[cyan]•[/cyan] {message}")


@app.command()
def up(
    state_dir: StateDir = infra.REPO_ROOT / ".run" / "local",
    port_base: PortBase = 0,
    prometheus: bool = typer.Option(True, help="Also start Prometheus"),
) -> None:
    """Start Kafka, FerretDB, the three services and Prometheus (idempotent)."""
    stack = _stack(state_dir, port_base)
    started = time.monotonic()
    try:
        with console.status("Bringing the stack up…"):
            infra.start_all(stack, _progress, prometheus=prometheus)
    except infra.InfraError as exc:
        console.print(f"[red]Could not start the stack:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"[green]Up in {time.monotonic() - started:.0f}s.[/green]")
    _print_status(stack)


@app.command()
def down(state_dir: StateDir = infra.REPO_ROOT / ".run" / "local", port_base: PortBase = 0) -> None:
    """Stop everything that `up` started (services first, so they drain)."""
    infra.stop_all(_stack(state_dir, port_base), _progress)
    console.print("[green]Stopped.[/green]")


@app.command()
def status(
    state_dir: StateDir = infra.REPO_ROOT / ".run" / "local", port_base: PortBase = 0
) -> None:
    """Show the health of every component; exit 1 if any is down."""
    if not _print_status(_stack(state_dir, port_base)):
        raise typer.Exit(1)


def _print_status(stack: infra.Stack) -> bool:
    health = infra.health(stack)
    endpoints = {
        "ferretdb": stack.mongo_url,
        "kafka": stack.kafka_bootstrap,
        "prometheus": f"http://127.0.0.1:{stack.ports.prometheus}",
        **{name: stack.url(name) for name in infra.SERVICES},
    }
    table = Table("component", "health", "address", "log")
    for name, ok in health.items():
        table.add_row(
            name,
            "[green]up[/green]" if ok else "[red]down[/red]",
            endpoints[name],
            str(stack.logfile(name).relative_to(infra.REPO_ROOT))
            if stack.logfile(name).is_relative_to(infra.REPO_ROOT)
            else "",
        )
    console.print(table)
    return all(health.values())


@app.command("demo")
def run_demo(
    state_dir: StateDir = infra.REPO_ROOT / ".run" / "local",
    port_base: PortBase = 0,
    timeout: float = typer.Option(60.0, help="Seconds to wait for notifications"),
) -> None:
    """Load the demo county and show what was matched and who was notified."""
    stack = _stack(state_dir, port_base)
    if not all(infra.health(stack)[name] for name in infra.SERVICES):
        console.print("[red]The services are not up:[/red] run `fivelink up` first.")
        raise typer.Exit(1)
    secret = "demo-webhook-secret-" + uuid.uuid4().hex[:12]
    receiver = WebhookReceiver(secret).start()
    try:
        run = uuid.uuid4().hex[:8]
        with httpx.Client(timeout=15, headers=stack.service_headers()) as http:
            _subscribe(http, stack, receiver, secret)
            offer_ids = [
                _post(http, f"{stack.url('intake')}/v1/offers", offer, f"demo-{run}-offer-{i}")[
                    "offer_id"
                ]
                for i, offer in enumerate(scenario.offers())
            ]
            case_ids = [
                _post(http, f"{stack.url('intake')}/v1/needs", need, f"demo-{run}-need-{i}")[
                    "case_id"
                ]
                for i, need in enumerate(scenario.needs())
            ]
            console.print(
                f"Published {len(offer_ids)} offers and {len(case_ids)} cases in "
                f"county {scenario.COUNTY}."
            )
            with console.status("Waiting for the matcher and the notifier…"):
                assignments = _wait_assignments(http, stack, set(case_ids), timeout)
                deadline = time.monotonic() + timeout
                wanted = {a["_id_event"] for a in assignments}
                while time.monotonic() < deadline:
                    got = {m["event_id"] for m in receiver.messages()}
                    if wanted <= got:
                        break
                    time.sleep(0.5)
        ours = set(case_ids)
        _show(
            assignments,
            [m for m in receiver.messages() if m["event_id"] in wanted],
            [u for u in http_unmet(stack) if u["case_id"] in ours],
        )
    finally:
        receiver.stop()


def _subscribe(
    http: httpx.Client, stack: infra.Stack, receiver: WebhookReceiver, secret: str
) -> None:
    for party, role in scenario.parties():
        response = http.post(
            f"{stack.url('notifier')}/v1/subscriptions",
            json={
                "party_id": party,
                "role": role,
                "channel": "webhook",
                "target": {"kind": "webhook", "url": receiver.url, "secret": secret},
            },
        )
        response.raise_for_status()


def _post(http: httpx.Client, url: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    from fivelink_intake.tokens import issue  # intake's dev tokens (FIVELINK_TOKEN_SECRET)

    auth = f"Bearer {issue(role='admin', sub='demo')}"
    response = http.post(url, json=body, headers={"Idempotency-Key": key, "Authorization": auth})
    if response.status_code >= 400:
        console.print(f"[red]{url} refused the demo data:[/red] {response.text}")
        raise typer.Exit(1)
    result: dict[str, Any] = response.json()
    return result


def _wait_assignments(
    http: httpx.Client, stack: infra.Stack, case_ids: set[str], timeout: float
) -> list[dict[str, Any]]:
    """Proposals for the demo cases, once every case has one and a few polls saw no change.

    Needs and offers travel on different topics, so the matcher may re-solve a few times
    while the demo's events arrive; the demo waits for the picture to settle.
    """
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    last: set[tuple[str, str, float]] = set()
    stable_polls = 0
    while time.monotonic() < deadline:
        response = http.get(
            f"{stack.url('matcher')}/v1/assignments", params={"county": scenario.COUNTY}
        )
        found = [
            a
            for a in response.json()
            if a["case_id"] in case_ids and a["status"] == "proposed" and a["published"]
        ]
        current = {(a["line_id"], a["offer_id"], a["quantity"]) for a in found}
        stable_polls = stable_polls + 1 if current == last else 0
        last = current
        if {a["case_id"] for a in found} >= case_ids and stable_polls >= SETTLE_POLLS:
            break
        time.sleep(0.5)
    for a in found:
        a["_id_event"] = a["event"]["event_id"]
    return found


def http_unmet(stack: infra.Stack) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.url('matcher')}/v1/unmet",
        params={"county": scenario.COUNTY},
        headers=stack.service_headers(),
        timeout=10,
    )
    result: list[dict[str, Any]] = response.json()
    return result


def _show(
    assignments: list[dict[str, Any]], messages: list[dict[str, Any]], unmet: list[dict[str, Any]]
) -> None:
    table = Table("case", "need", "qty", "offer / worker", "solver", "why", title="Matched")
    for a in sorted(assignments, key=lambda a: a["line_id"]):
        event = a["event"]
        table.add_row(
            a["case_id"][:12],
            event["need_type"],
            f"{a['quantity']:g} {event['unit']}",
            a.get("worker_id") or a["org_id"],
            event["explanation"]["solver"],
            event["explanation"]["summary"][:90],
        )
    console.print(table)
    if unmet:
        table = Table(
            "line", "still needed", "reason", "detail", title="Unmet (in the queue, with reason)"
        )
        for u in sorted(unmet, key=lambda u: u["line_id"]):
            table.add_row(u["line_id"], f"{u['remaining']:g}", u["reason"], u["detail"][:80])
        console.print(table)
    table = Table("to", "role", "lang", "subject", title="Notified (signed webhooks received)")
    for m in messages:
        table.add_row(m["recipient"], m["role"], m["language"], m["subject"][:70])
    console.print(table)
    console.print(
        f"[green]{len(assignments)} assignments, {len(messages)} notifications delivered.[/green]"
    )


if __name__ == "__main__":
    app()
