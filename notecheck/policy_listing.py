"""`notecheck policies`: what each profile enforces and which seed file each rule comes from."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from notecheck.policy import Policy, builtin_names, load_policy


def list_policies(console: Console, name: str | None = None, *, show_rules: bool = False) -> None:
    if name is None:
        table = Table("policy", "description", "sources", box=None, header_style="bold")
        for policy_name in builtin_names():
            policy = load_policy(policy_name)
            table.add_row(policy.name, policy.description, ", ".join(policy.sources))
        console.print(table)
        console.print("Show one with `notecheck policies NAME`; use any with `--policy NAME` or `--policy path.yaml`.")
        return
    policy = load_policy(name)
    _show(console, policy)
    if show_rules:
        from notecheck.checker import Checker

        console.print("\n[bold]rule ids[/bold] (override any under `rules:`)")
        for rule in Checker(policy=policy).rule_ids():
            console.print(f"  {rule}")


def _show(console: Console, policy: Policy) -> None:
    console.print(f"[bold]{policy.name}[/bold]: {policy.description}")
    table = Table("rule", "setting", "source", box=None, header_style="bold")
    for element, rule in policy.elements.items():
        table.add_row(f"element.{element}", f"required={rule.required} weight={rule.weight}", rule.ref)
    for kind, entries in (
        ("prohibited", policy.prohibited),
        ("pii", policy.pii),
        ("quality", policy.quality),
    ):
        for category, rule in entries.items():
            table.add_row(f"{kind}.{category}", rule.severity, rule.ref)
    if policy.late_entry:
        le = policy.late_entry
        table.add_row("timeliness.late_entry", f"{le.severity}, {le.business_days} business days", le.ref)
    caseload = policy.caseload
    if caseload.contact_gap:
        table.add_row("timeliness.contact_gap", f"{caseload.contact_gap.severity}, {caseload.contact_gap.days} days",
                      caseload.contact_gap.ref)  # fmt: skip
    if caseload.missed_follow_up:
        months = ",".join(map(str, caseload.missed_follow_up.months_after_exit))
        table.add_row("timeliness.missed_follow_up", f"months {months}", caseload.missed_follow_up.ref)
    if caseload.cloned:
        table.add_row("quality.cloned", f"similarity >= {caseload.cloned.similarity}", caseload.cloned.ref)
    for rule_id, override in policy.rules.items():
        table.add_row(rule_id, override.severity, override.ref)
    console.print(table)
