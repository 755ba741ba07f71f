"""Escalation policies: who is told when, quiet hours, overrides per station and home."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from alerting.policies import PolicyBook, PolicyError, PolicyFile, Target
from alerting.service import run
from eldercare.clock import SimulatedClock
from eldercare.db import prepared_engine
from eldercare.models import AlertKind, Severity
from eldercare.settings import Settings
from eldercare.shard_leases import ShardLeases

T0 = datetime(2026, 11, 25, 0, 14, tzinfo=UTC)  # 08:14 in Shanghai
NIGHT = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai


def ladder(book: PolicyBook, kind: AlertKind, severity: Severity, at: datetime, **where: str):
    chosen = book.choose(where.get("station"), where.get("home", "h-1"), kind, severity)
    return [(t.target, t.due_at - at) for t in chosen.plan(severity, at, "Asia/Shanghai")]


def test_built_in_critical_ladder_is_station_family_centre_emergency() -> None:
    assert ladder(PolicyBook(), AlertKind.CALL_BUTTON, Severity.CRITICAL, T0) == [
        (Target.STATION, timedelta(0)),
        (Target.FAMILY, timedelta(minutes=2)),
        (Target.CENTRE, timedelta(minutes=10)),
        (Target.EMERGENCY, timedelta(minutes=20)),
    ]


def test_low_severity_waits_for_the_morning_but_critical_never_waits() -> None:
    book = PolicyBook()
    battery = ladder(book, AlertKind.BATTERY_LOW, Severity.LOW, NIGHT)
    # 23:00 → 08:00 next morning local = 9 hours later
    assert battery[0] == (Target.TECHNICIAN, timedelta(hours=9))
    assert ladder(book, AlertKind.CALL_BUTTON, Severity.CRITICAL, NIGHT)[0] == (
        Target.STATION,
        timedelta(0),
    )
    # in the daytime a battery alert goes out at once
    assert ladder(book, AlertKind.BATTERY_LOW, Severity.LOW, T0)[0] == (
        Target.TECHNICIAN,
        timedelta(0),
    )


def test_system_alerts_go_to_operators_by_kind() -> None:
    assert ladder(PolicyBook(), AlertKind.SYSTEM, Severity.CRITICAL, T0)[0][0] is Target.OPERATORS


def test_quiet_hours_on_critical_are_refused() -> None:
    with pytest.raises(ValueError, match="critical alerts never wait"):
        PolicyFile.model_validate(
            {
                "severities": {
                    "critical": {
                        "quiet_hours": {"start": "22:00", "end": "07:00"},
                        "tiers": [{"after": 0, "notify": "station"}],
                    }
                }
            }
        )


def test_station_and_home_files_override_in_that_order(tmp_path: Path) -> None:
    (tmp_path / "stations").mkdir()
    (tmp_path / "homes").mkdir()
    (tmp_path / "stations" / "s-9.yaml").write_text(
        "severities:\n  critical:\n    tiers:\n"
        "      - {after: 0s, notify: station}\n      - {after: 1m, notify: centre}\n"
        "channels:\n  emergency: ['json://x/120']\n"
    )
    (tmp_path / "homes" / "h-7.yaml").write_text(
        "severities:\n  critical:\n    tiers:\n"
        "      - {after: 0s, notify: family}\n      - {after: 90s, notify: station}\n"
    )
    book = PolicyBook(tmp_path)
    crit = AlertKind.CALL_BUTTON, Severity.CRITICAL, T0
    assert ladder(book, *crit, station="s-9", home="h-1") == [
        (Target.STATION, timedelta(0)),
        (Target.CENTRE, timedelta(minutes=1)),
    ]
    assert ladder(book, *crit, station="s-9", home="h-7") == [
        (Target.FAMILY, timedelta(0)),
        (Target.STATION, timedelta(seconds=90)),
    ]
    assert book.choose("s-9", "h-7", *crit[:2]).channels["emergency"] == ["json://x/120"]
    # another station keeps the built-in ladder (no default.yaml in the folder)
    assert len(ladder(book, *crit, station="s-1", home="h-1")) == 4


def test_a_severity_without_policy_borrows_a_stricter_one(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text(
        "severities:\n"
        "  critical:\n    tiers: [{after: 0, notify: station}]\n"
        "  low:\n    quiet_hours: {start: '21:00', end: '08:00'}\n"
        "    tiers: [{after: 0, notify: technician}]\n"
    )
    book = PolicyBook(tmp_path)
    # high has no policy: it must not borrow low's quiet hours
    assert ladder(book, AlertKind.INACTIVITY, Severity.HIGH, NIGHT) == [
        (Target.STATION, timedelta(0))
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("severities:\n  critical:\n    tiers: [{after: 0, notify: pager}]\n", "notify"),
        ("severities:\n  critical:\n    tierz: []\n", "tierz"),
        (
            "severities:\n  high:\n    tiers:\n      - {after: 5m, notify: station}\n"
            "      - {after: 1m, notify: family}\n",
            "order",
        ),
        ("severities: [\n", "while parsing"),
    ],
)
def test_broken_policy_files_fail_at_start_with_the_file_name(
    tmp_path: Path, text: str, reason: str
) -> None:
    (tmp_path / "homes").mkdir()
    (tmp_path / "homes" / "h-1.yaml").write_text(text)
    with pytest.raises(PolicyError, match=reason) as error:
        PolicyBook(tmp_path).check()
    assert "h-1.yaml" in str(error.value)


def test_a_file_broken_while_running_falls_back_to_the_built_in_policy(tmp_path: Path) -> None:
    (tmp_path / "homes").mkdir()
    book = PolicyBook(tmp_path)
    book.check()
    (tmp_path / "homes" / "h-1.yaml").write_text("severities: {critical: {tiers: nope}}\n")
    assert len(ladder(book, AlertKind.CALL_BUTTON, Severity.CRITICAL, T0, home="h-1")) == 4


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "severities:\n  high:\n    tiers: [{after: 0, notify: station}]\n"
            "    expire_after: 1d\n",
            "high alerts never expire",
        ),
        (
            "severities:\n  low:\n    tiers: [{after: 0, notify: station}, "
            "{after: 4h, notify: family}]\n    expire_after: 2h\n",
            "after the last tier",
        ),
    ],
)
def test_expire_after_only_for_medium_and_low_and_after_every_tier(
    text: str, reason: str, tmp_path: Path
) -> None:
    (tmp_path / "default.yaml").write_text(text)
    with pytest.raises(PolicyError, match=reason):
        PolicyBook(tmp_path).check()


def test_low_alerts_expire_a_day_after_quiet_hours_but_critical_never(tmp_path: Path) -> None:
    book = PolicyBook()
    battery = book.choose(None, "h-1", AlertKind.BATTERY_LOW, Severity.LOW)
    # raised at 23:00: quiet until 08:00, then 24 h for someone to take it
    assert battery.expires_at(Severity.LOW, NIGHT, "Asia/Shanghai") == NIGHT + timedelta(hours=33)
    call = book.choose(None, "h-1", AlertKind.CALL_BUTTON, Severity.CRITICAL)
    assert call.expires_at(Severity.CRITICAL, T0, "Asia/Shanghai") is None
    # a kind policy is not tied to one severity: it still cannot expire a critical alert
    (tmp_path / "default.yaml").write_text(
        "kinds:\n  device_offline:\n    tiers: [{after: 0, notify: technician}]\n"
        "    expire_after: 1h\n"
    )
    offline = PolicyBook(tmp_path).choose(None, "h-1", AlertKind.DEVICE_OFFLINE, Severity.CRITICAL)
    assert offline.expires_at(Severity.CRITICAL, T0, "Asia/Shanghai") is None
    assert offline.expires_at(Severity.LOW, T0, "Asia/Shanghai") == T0 + timedelta(hours=1)


def test_a_policy_file_is_parsed_once_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "homes").mkdir()
    home = tmp_path / "homes" / "h-7.yaml"
    home.write_text("severities:\n  critical:\n    tiers:\n      - {after: 0s, notify: family}\n")
    parsed: list[object] = []
    real = yaml.safe_load
    monkeypatch.setattr(yaml, "safe_load", lambda text: parsed.append(text) or real(text))
    book = PolicyBook(tmp_path)
    crit = AlertKind.CALL_BUTTON, Severity.CRITICAL, T0
    for _ in range(20):
        assert ladder(book, *crit, home="h-7") == [(Target.FAMILY, timedelta(0))]
    assert len(parsed) <= 2  # the built-in file and the home's, once each
    home.write_text(
        "severities:\n  critical:\n    tiers:\n      - {after: 0s, notify: station}\n"
        "      - {after: 1m, notify: centre}\n"
    )
    assert ladder(book, *crit, home="h-7") == [  # an edit applies at the next alert
        (Target.STATION, timedelta(0)),
        (Target.CENTRE, timedelta(minutes=1)),
    ]


async def test_a_standby_replica_with_a_broken_policy_file_fails_at_start(
    tmp_path: Path,
) -> None:
    """Not hours later, when it takes over from the active instance."""
    (tmp_path / "policies" / "homes").mkdir(parents=True)
    (tmp_path / "policies" / "homes" / "h-1.yaml").write_text("severities: [\n")
    settings = Settings(data_dir=tmp_path, policies_dir=tmp_path / "policies", replicas=True)
    engine = await prepared_engine(settings)
    clock = SimulatedClock()
    active = ShardLeases(
        engine, clock, scope="alerting", owner="active", shard_count=1, ttl=timedelta(minutes=1)
    )
    try:
        assert (await active.round()).acquired == [0]  # so this one waits as the standby
        with pytest.raises(PolicyError, match=r"h-1\.yaml"):
            async with asyncio.timeout(5):
                await run(settings, clock, engine)
    finally:
        await engine.dispose()
