"""Escalation and outbox against the database (SQLite and PostgreSQL), on a simulated clock.

The notifier here is the channel boundary recorded in memory; the real apprise channel to a
real HTTP receiver is proven in test_alerting_end_to_end.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from alerting import leases
from alerting.api import AlertingApi
from alerting.channels import Delivery
from alerting.escalation import Escalator
from alerting.lifecycle import TransitionRefused
from alerting.outbox import MAX_ATTEMPTS, Outbox
from alerting.signed_links import AckLinks
from eldercare import failures as database_retry
from eldercare.clock import SimulatedClock
from eldercare.db import create_engine
from eldercare.db.models import AlertEventRow, EscalationTimerRow, NotificationRow
from eldercare.models import AlertKind, AlertStatus, Outcome, Severity
from tests.alerting_support import (
    CLIMB_TO_CENTRE_THEN_ACK,
    WebhookReceiver,
    make_alert,
    seed_registry,
)

START = datetime(2026, 11, 25, 0, 14, tzinfo=UTC)
LINKS = AckLinks(b"k" * 32, "https://care.example", timedelta(hours=1))


class RecordingNotifier:
    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.failing = set(failing)
        self.sent: list[tuple[str, str, bool]] = []

    async def send(self, url: str, title: str, body: str, idempotency_key: str) -> Delivery:
        await asyncio.sleep(0.01)  # a real channel takes time; lets instances interleave
        ok = not any(part in url for part in self.failing)
        self.sent.append((url, idempotency_key, ok))
        return Delivery(ok, url, None if ok else "503 from provider")

    def delivered_to(self) -> list[str]:
        return [url.rsplit("/", 1)[-1] for url, _, ok in self.sent if ok]


class Rig:
    def __init__(self, engine: AsyncEngine, notifier: RecordingNotifier | None = None) -> None:
        self.clock = SimulatedClock(START)
        self.api = AlertingApi(engine, self.clock, links=LINKS)
        self.notifier = notifier or RecordingNotifier()
        self.escalator = Escalator(engine, self.clock, self.api.policies, LINKS, "one")
        self.outbox = Outbox(engine, self.clock, self.notifier, "one")

    async def step(self) -> None:
        """What the service's two loops do at this instant."""
        await self.escalator.run_once()
        await self.outbox.run_once()

    async def at(self, seconds: float) -> None:
        self.clock.set(START + timedelta(seconds=seconds))
        await self.step()


async def rig_with_registry(engine: AsyncEngine, **kwargs: object) -> Rig:
    await seed_registry(engine, WebhookReceiver(), START)
    return Rig(engine, **kwargs)  # type: ignore[arg-type]


async def test_tiers_fire_on_time_until_someone_acknowledges(engine: AsyncEngine) -> None:
    rig = await rig_with_registry(engine)
    await rig.api.record(make_alert("A1", START))
    await rig.at(0)
    assert rig.notifier.delivered_to() == ["wang"]
    await rig.at(119)
    assert rig.notifier.delivered_to() == ["wang"]
    await rig.at(120)
    # 李明's first channel (push) takes it; Li Hua gets hers
    assert sorted(rig.notifier.delivered_to()) == ["lihua", "liming-push", "wang"]
    await rig.at(600)
    assert rig.notifier.delivered_to()[-1] == "zhou"

    await rig.api.acknowledge("A1", actor="周主任", channel="dashboard")
    await rig.at(1200)  # the emergency tier would be due now
    # no emergency call; instead, those asked before hear that 周主任 has it
    assert sorted(key for _, key, _ in rig.notifier.sent[4:]) == [
        "A1.taken.contact:1",
        "A1.taken.contact:2",
        "A1.taken.staff:wang",
    ]
    [taken] = [n for n in await rig.api.notifications("A1") if n.recipient == "contact:2"][1:]
    assert taken.status == "sent"
    view = await rig.api.get("A1")
    assert view.status is AlertStatus.ACKNOWLEDGED
    steps = [(e.status.value, e.note or "") for e in await rig.api.timeline("A1")]
    assert [s for s, _ in steps] == CLIMB_TO_CENTRE_THEN_ACK
    assert sorted(note.split(" via ")[0] for _, note in steps[-3:]) == [
        "told that it is taken: Li Hua",
        "told that it is taken: 李明",
        "told that it is taken: 王芳",
    ]
    assert steps[1][1].startswith("tier 0 (station) at T+0s, first notification: 王芳")
    assert steps[3][1].startswith("tier 1 (family) at T+120s, nobody acknowledged: 李明, Li Hua")
    assert steps[6][1].startswith("tier 2 (centre) at T+600s")
    assert "delivered to 周主任" in steps[7][1]
    # Each of alerting's notes is also a fact, for a screen to say in its reader's language.
    facts = [(e.note_key, e.note_args) for e in await rig.api.timeline("A1")]
    assert facts[1] == (
        "tier_first",
        {"tier": 0, "target": "station", "late_s": 0, "names": ["王芳"]},
    )
    assert facts[3][0] == "tier_escalated" and facts[3][1]["names"] == ["李明", "Li Hua"]
    assert facts[7][0] == "delivered" and facts[7][1]["name"] == "周主任"
    assert {key for key, _ in facts[-3:]} == {"told_taken"}
    async with async_sessionmaker(engine)() as session:
        rows = await session.execute(select(EscalationTimerRow.tier, EscalationTimerRow.status))
        timers = dict(rows.all())
        stored = (await session.execute(select(AlertEventRow.note, AlertEventRow.note_args))).all()
    # This notifier names its channels by their URLs: the audit rows still keep none.
    assert not [note for note, args in stored if "://" in f"{note} {args}"]
    assert timers == {0: "fired", 1: "fired", 2: "fired", 3: "cancelled"}
    # What /metrics reports (issue 14): station, 2 family, centre, and 3 "taken" notices.
    assert rig.escalator.steps == {"notified": 1, "escalated": 2}
    assert rig.outbox.outcomes == {"sent": 7}


async def test_failover_to_the_next_channel_is_recorded(engine: AsyncEngine) -> None:
    rig = await rig_with_registry(engine, notifier=RecordingNotifier(failing=("liming-push",)))
    await rig.api.record(make_alert("A2", START))
    await rig.at(0)
    await rig.at(120)
    family = next(n for n in await rig.api.notifications("A2") if n.recipient_name == "李明")
    assert family.status == "sent"
    assert family.delivered_via is not None and family.delivered_via.endswith("liming-sms")
    assert [(d.channel.rsplit("/", 1)[-1], d.ok) for d in family.deliveries] == [
        ("liming-push", False),
        ("liming-sms", True),
    ]
    assert family.deliveries[0].error == "503 from provider"


async def test_unreachable_people_are_retried_with_backoff_then_the_next_tier_comes_early(
    engine: AsyncEngine,
) -> None:
    rig = await rig_with_registry(engine, notifier=RecordingNotifier(failing=("station/wang",)))
    await rig.api.record(make_alert("A3", START))
    await rig.at(0)
    tries_at = [0.0]
    for _ in range(MAX_ATTEMPTS - 1):
        due = await rig.outbox.run_once()
        assert due is not None
        tries_at.append((due - START).total_seconds())
        rig.clock.set(due)
        await rig.outbox.run_once()
    assert tries_at == [0, 5, 15, 35, 75, 155]  # 5 s doubling
    station = (await rig.api.notifications("A3"))[0]
    assert (station.status, station.attempts) == ("failed", MAX_ATTEMPTS)
    # nobody at the station can be reached: family is asked now, not at T+2 min
    await rig.escalator.run_once()
    await rig.outbox.run_once()
    assert "lihua" in rig.notifier.delivered_to()
    assert (rig.clock.now() - START).total_seconds() == 155
    notes = [e.note or "" for e in await rig.api.timeline("A3")]
    assert any(n.startswith("could not reach 王芳 after 6 tries") for n in notes)
    assert rig.outbox.outcomes == {"retry": MAX_ATTEMPTS - 1, "failed": 1, "sent": 2}


async def test_acknowledging_cancels_notifications_not_yet_sent(engine: AsyncEngine) -> None:
    rig = await rig_with_registry(engine)
    await rig.api.record(make_alert("A4", START))
    await rig.escalator.run_once()  # tier 0 queued, not sent yet
    await rig.api.acknowledge("A4", actor="王芳", channel="link")
    await rig.outbox.run_once()
    assert rig.notifier.sent == []
    assert [n.status for n in await rig.api.notifications("A4")] == ["cancelled"]


async def test_a_stricter_trigger_replans_from_the_original_raise(engine: AsyncEngine) -> None:
    rig = await rig_with_registry(engine)
    await rig.api.record(make_alert("B1", START, kind=AlertKind.FALL, severity=Severity.HIGH))
    await rig.at(0)
    await rig.at(150)  # high: family only at T+5 min
    assert rig.notifier.delivered_to() == ["wang"]
    await rig.api.record(make_alert("B2", START + timedelta(seconds=150), kind=AlertKind.FALL))
    await rig.step()  # critical: family was due at T+2 min already
    assert sorted(rig.notifier.delivered_to()) == ["lihua", "liming-push", "wang"]
    assert (await rig.api.get("B1")).severity is Severity.CRITICAL


async def test_two_instances_never_send_the_same_escalation(
    engine: AsyncEngine, db_url: str
) -> None:
    await seed_registry(engine, WebhookReceiver(), START, homes=6)
    clock = SimulatedClock(START)
    api = AlertingApi(engine, clock, links=LINKS)
    for number in range(6):
        await api.record(make_alert(f"C{number:02d}", START, home=f"h-{number + 1:04d}"))
    other_engine = create_engine(db_url)
    notifier = RecordingNotifier()
    try:
        pairs = [
            (Escalator(e, clock, api.policies, LINKS, name), Outbox(e, clock, notifier, name))
            for e, name in ((engine, "one"), (other_engine, "two"))
        ]
        for seconds in (0, 120, 600):
            clock.set(START + timedelta(seconds=seconds))
            await asyncio.gather(*(escalator.run_once() for escalator, _ in pairs))
            await asyncio.gather(*(outbox.run_once() for _, outbox in pairs))
    finally:
        await other_engine.dispose()
    keys = [key for _, key, _ in notifier.sent]
    assert len(keys) == len(set(keys)) == 6 * 4  # station, 2 relatives, centre
    async with async_sessionmaker(engine)() as session:
        fired = await session.scalar(
            select(func.count()).where(EscalationTimerRow.status == "fired")
        )
        sent = await session.scalar(select(func.count()).where(NotificationRow.status == "sent"))
    assert (fired, sent) == (6 * 3, 6 * 4)


async def test_battery_low_at_night_waits_for_the_morning(engine: AsyncEngine) -> None:
    rig = await rig_with_registry(engine)
    night = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 23:00 Shanghai
    rig.clock.set(night)
    await rig.api.record(
        make_alert("D1", night, kind=AlertKind.BATTERY_LOW, severity=Severity.LOW, device="pir")
    )
    await rig.step()
    assert rig.notifier.sent == []
    rig.clock.set(night + timedelta(hours=9))  # 08:00
    await rig.step()
    assert rig.notifier.delivered_to() == ["tech"]


async def test_responder_information_only_when_the_caller_asks(engine: AsyncEngine) -> None:
    rig = await rig_with_registry(engine)
    await rig.api.record(make_alert("E1", START))
    assert (await rig.api.get("E1")).responder is None
    info = (await rig.api.get("E1", responder_info=True)).responder
    assert info is not None
    assert info.address == "和平路 12 号 3 单元 501"
    assert info.access_notes == "钥匙盒在门左侧，密码 4711"
    assert [(r.name, r.care_notes) for r in info.residents] == [("张秀英", "华法林；助行器")]
    assert info.contacts == [
        {"name": "李明", "relation": "son"},
        {"name": "Li Hua", "relation": "daughter"},
    ]


async def test_response_kpis_per_station_and_month(engine: AsyncEngine) -> None:
    rig = await rig_with_registry(engine)
    for number, ack_s in enumerate((30, 45, 200)):
        raised = START + timedelta(hours=number)
        rig.clock.set(raised)
        await rig.api.record(make_alert(f"K{number}", raised))
        rig.clock.set(raised + timedelta(seconds=ack_s))
        await rig.api.acknowledge(f"K{number}", actor="王芳", channel="dashboard")
        rig.clock.set(raised + timedelta(seconds=ack_s + 900))
        await rig.api.resolve(
            f"K{number}", actor="王芳", channel="dashboard", outcome=Outcome.HELPED_AT_HOME
        )
    [kpis] = await rig.api.response_kpis(station="s-1", month="2026-11")
    assert (kpis.alerts, kpis.critical, kpis.ack_median_s) == (3, 3, 45.0)
    assert (kpis.critical_acked_60s, kpis.critical_acked_180s) == (0.6667, 0.6667)
    assert kpis.resolve_median_s == 945.0
    assert await rig.api.response_kpis(station="s-1", month="2026-10") == []
    assert (await rig.api.get("K0")).outcome == "helped_at_home"


async def test_acks_racing_each_other_and_the_escalation_stay_consistent(
    engine: AsyncEngine, db_url: str
) -> None:
    await seed_registry(engine, WebhookReceiver(), START, homes=6)
    clock = SimulatedClock(START)
    api = AlertingApi(engine, clock, links=LINKS)
    for number in range(6):
        await api.record(make_alert(f"X{number}", START, home=f"h-{number + 1:04d}"))
    clock.set(START + timedelta(seconds=120))  # tiers 0 and 1 due for all six
    other_engine = create_engine(db_url)
    other_api = AlertingApi(other_engine, clock, links=LINKS)
    escalator = Escalator(other_engine, clock, api.policies, LINKS, "racer")

    async def ack(which: AlertingApi, alert_id: str, who: str) -> str | None:
        try:
            await which.acknowledge(alert_id, actor=who, channel="dashboard")
            return who
        except TransitionRefused:
            return None

    try:
        results = await asyncio.gather(
            escalator.run_once(),
            *(ack(api, f"X{n}", "王芳") for n in range(6)),
            *(ack(other_api, f"X{n}", "李明") for n in range(6)),
        )
    finally:
        await other_engine.dispose()
    winners = [r for r in results[1:] if r is not None]
    assert len(winners) == 6  # exactly one acknowledgement per alert
    async with async_sessionmaker(engine)() as session:
        pending = await session.scalar(
            select(func.count()).where(EscalationTimerRow.status == "pending")
        )
    assert pending == 0
    for number in range(6):
        view = await api.get(f"X{number}")
        assert view.status is AlertStatus.ACKNOWLEDGED
        acks = [e for e in await api.timeline(f"X{number}") if e.status is AlertStatus.ACKNOWLEDGED]
        assert [e.actor for e in acks] == [view.acknowledged_by]


class GatedNotifier(RecordingNotifier):
    """Holds every send until the test opens the gate: an ack lands mid-flight."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        super().__init__(failing)
        self.started = asyncio.Event()
        self.gate = asyncio.Event()
        self._begun: list[str] = []
        self._one_more = asyncio.Condition()

    async def send(self, url: str, title: str, body: str, idempotency_key: str) -> Delivery:
        self.started.set()
        async with self._one_more:
            self._begun.append(url)
            self._one_more.notify_all()
        await self.gate.wait()
        return await super().send(url, title, body, idempotency_key)

    async def in_flight(self, channel: str) -> None:
        """Until a send to ``channel`` has begun: the outbox delivers each recipient's
        notification concurrently, so the first send to start may be anyone's."""
        async with self._one_more:
            await self._one_more.wait_for(lambda: any(channel in url for url in self._begun))


async def test_an_ack_while_a_message_is_in_flight_stops_failover_but_keeps_the_truth(
    engine: AsyncEngine,
) -> None:
    rig = await rig_with_registry(engine, notifier=GatedNotifier(failing=("liming-push",)))
    await rig.api.record(make_alert("G1", START))
    await rig.escalator.run_once()
    sending = asyncio.create_task(rig.outbox.run_once())
    await rig.notifier.started.wait()
    await rig.api.acknowledge("G1", actor="王芳", channel="dashboard")
    rig.notifier.gate.set()
    await sending
    [station] = await rig.api.notifications("G1")
    assert station.status == "sent"  # it did reach 王芳, ack or not
    assert "delivered to 王芳" in ((await rig.api.timeline("G1"))[-1].note or "")


async def test_an_ack_while_a_channel_fails_stops_the_failover(engine: AsyncEngine) -> None:
    rig = await rig_with_registry(engine, notifier=GatedNotifier(failing=("liming-push",)))
    await rig.api.record(make_alert("G2", START))
    rig.clock.set(START + timedelta(seconds=120))  # station and family both due
    await rig.escalator.run_once()
    sending = asyncio.create_task(rig.outbox.run_once())
    await rig.notifier.in_flight("liming-push")
    await rig.api.acknowledge("G2", actor="王芳", channel="dashboard")
    rig.notifier.gate.set()
    await sending
    tried = [url.rsplit("/", 1)[-1] for url, _, _ in rig.notifier.sent]
    assert "liming-push" in tried and "liming-sms" not in tried
    son = next(n for n in await rig.api.notifications("G2") if n.recipient_name == "李明")
    assert son.status == "cancelled"
    assert await rig.outbox.run_once() is None  # nothing left to retry


async def test_a_low_alert_nobody_takes_expires_and_the_next_trigger_notifies_again(
    engine: AsyncEngine,
) -> None:
    rig = await rig_with_registry(engine)
    battery = {"kind": AlertKind.BATTERY_LOW, "severity": Severity.LOW, "device": "pir"}
    await rig.api.record(make_alert("L1", START, **battery))
    await rig.at(0)
    await rig.at(4 * 3600)
    assert rig.notifier.delivered_to() == ["tech", "wang"]
    await rig.at(24 * 3600 - 1)
    assert (await rig.api.get("L1")).status is AlertStatus.ESCALATED
    await rig.at(24 * 3600)
    assert (await rig.api.get("L1")).status is AlertStatus.EXPIRED
    last = (await rig.api.timeline("L1"))[-1]
    assert (last.status, last.actor) == (AlertStatus.EXPIRED, "alerting")
    assert last.note == (
        "expired at T+86400s: nobody acknowledged although 赵工, 王芳 were told; "
        "the next trigger opens a new alert"
    )
    # off the wall, still in the history
    assert [a.alert_id for a in await rig.api.list()] == []
    assert [a.alert_id for a in await rig.api.list(unresolved_only=False)] == ["L1"]

    # the battery is still low: the next trigger is a new alert, not swallowed by the old one
    later = START + timedelta(hours=25)
    rig.clock.set(later)
    await rig.api.record(make_alert("L2", later, **battery))
    await rig.step()
    assert rig.notifier.delivered_to() == ["tech", "wang", "tech"]
    # someone who comes to the expired one late may still take it and close it
    await rig.api.acknowledge("L1", actor="赵工", channel="dashboard")
    await rig.api.resolve("L1", actor="赵工", channel="dashboard", outcome=Outcome.OTHER)
    assert (await rig.api.get("L1")).status is AlertStatus.RESOLVED


async def test_a_critical_alert_nobody_takes_never_expires(engine: AsyncEngine) -> None:
    rig = await rig_with_registry(engine)
    await rig.api.record(make_alert("L3", START))
    for seconds in (0, 120, 600, 1200, 7 * 86400):
        await rig.at(seconds)
    view = await rig.api.get("L3")
    assert view.status is AlertStatus.ESCALATED
    assert [a.alert_id for a in await rig.api.list()] == ["L3"]
    assert AlertStatus.EXPIRED not in {e.status for e in await rig.api.timeline("L3")}


async def test_a_low_alert_that_reached_nobody_does_not_expire(engine: AsyncEngine) -> None:
    rig = await rig_with_registry(engine, notifier=RecordingNotifier(failing=("/station/",)))
    battery = {"kind": AlertKind.BATTERY_LOW, "severity": Severity.LOW, "device": "pir"}
    await rig.api.record(make_alert("L4", START, **battery))
    for seconds in range(0, 3600, 20):  # every retry of technician, then station, fails
        await rig.at(seconds)
    assert {n.status for n in await rig.api.notifications("L4")} == {"failed"}
    await rig.at(24 * 3600)
    assert (await rig.api.get("L4")).status is AlertStatus.ESCALATED
    last = (await rig.api.timeline("L4"))[-1]
    assert last.note == "not expired at T+86400s: nobody has been reached yet, so it stays open"
    assert [a.alert_id for a in await rig.api.list()] == ["L4"]


async def test_a_database_outage_after_a_send_is_waited_out_not_sent_again(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_retry, "RETRY_MIN_S", 0.01)
    rig = await rig_with_registry(engine)
    real_record, failures = rig.outbox._record, [1, 2]

    async def record_while_the_database_flaps(*args: object) -> None:
        if failures:
            failures.pop()
            raise OperationalError("UPDATE notifications", {}, Exception("connection refused"))
        await real_record(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(rig.outbox, "_record", record_while_the_database_flaps)
    await rig.api.record(make_alert("R1", START))
    await rig.at(0)
    rig.clock.set(START + timedelta(minutes=5))  # long after the lease would have lapsed
    await rig.outbox.run_once()
    assert rig.notifier.delivered_to() == ["wang"]
    [station] = await rig.api.notifications("R1")
    assert (station.status, station.attempts) == ("sent", 1)


async def test_the_next_instance_takes_over_what_a_dead_one_had_claimed(
    engine: AsyncEngine,
) -> None:
    """A crash between claiming and finishing left timers and outbox rows leased to a dead
    process: the station's first notification of a call waited for the lease to lapse. The
    one instance that works them now (``serve`` at start) frees them at once; a live other
    instance's claims are left alone until then (test above: two instances share safely)."""
    rig = await rig_with_registry(engine)
    await rig.api.record(make_alert("T1", START))
    dead = Escalator(engine, rig.clock, rig.api.policies, LINKS, "dead")
    await dead.run_once()  # tier 0 fired: the station's notification queued
    rig.clock.set(START + timedelta(seconds=120))  # and the family tier is due
    async with async_sessionmaker(engine).begin() as session:
        for table, due in (
            (NotificationRow, NotificationRow.next_attempt_at),
            (EscalationTimerRow, EscalationTimerRow.due_at),
        ):
            await leases.claim_due(
                session, table, due, owner="dead", now=rig.clock.now(), lease=timedelta(hours=1)
            )
    await rig.step()
    assert rig.notifier.sent == [], "all of it held by the dead instance"

    await leases.take_over_all(engine, "one")
    await rig.step()
    assert sorted(rig.notifier.delivered_to()) == ["lihua", "liming-push", "wang"]
