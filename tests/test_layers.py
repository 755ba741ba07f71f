"""The layers of DESIGN §1-2 hold: import-linter's contracts in pyproject.toml are kept.

`make test` runs `lint-imports` too; this test makes a plain `pytest` fail the same way, with
the broken chain in the message.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


#: The registry's tables (DESIGN §1: written by the gateway's registry commands).
REGISTRY_ROWS = {
    "StationRow",
    "StaffRow",
    "HomeRow",
    "ResidentRow",
    "ContactRow",
    "DeviceRow",
    "MqttCredentialRow",
}
#: Where registry rows may be imported: their owner, and the composition root and test world
#: that seed the registry. Everyone else reads through ``gateway.registry_api``.
MAY_IMPORT_REGISTRY_ROWS = ("gateway/", "eldercare/db/", "eldercare/app/", "chaos/")
#: The newest activity per home is one ``LIMIT 1`` index descent per ``homes`` row (a
#: correlated subquery): the registry table drives the activity log's own query there.
ALLOWED = {"dashboards/activity_store.py": {"HomeRow"}}


def test_registry_rows_are_read_only_through_the_registry_api() -> None:
    offenders = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", *MAY_IMPORT_REGISTRY_ROWS)):
            continue
        allowed = ALLOWED.get(relative, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "eldercare.db.models":
                names = {alias.name for alias in node.names} & REGISTRY_ROWS - allowed
                offenders += [f"{relative}: {name}" for name in sorted(names)]
    assert offenders == [], "read the registry through gateway.registry_api:\n" + "\n".join(
        offenders
    )


#: The alert tables (written by alerting): alerts, their triggers and timeline, escalation
#: timers, the outbox and its delivery attempts.
ALERT_ROWS = {
    "AlertRow",
    "AlertTriggerRow",
    "AlertEventRow",
    "EscalationTimerRow",
    "NotificationRow",
    "DeliveryAttemptRow",
}
STATEMENTS = {"select", "select_from", "join", "update", "sql_update", "delete", "insert", "get"}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def test_alert_tables_are_queried_only_in_the_alert_store() -> None:
    """``alerting/store.py`` holds every query on the alert tables (one place per table)."""
    offenders = []
    for package in ("alerting", "dashboards", "detector", "gateway", "simulator"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "alerting/store.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                arguments = set().union(*map(_names, [*node.args, *node.keywords]))
                if name in ALERT_ROWS or (name in STATEMENTS and arguments & ALERT_ROWS):
                    offenders.append(f"{relative}:{node.lineno}: {name}")
    assert offenders == [], "query the alert tables in alerting/store.py:\n" + "\n".join(offenders)
