"""A restarted gateway reads its own retained statuses back and publishes only what changed.

Before, every device's first message after a gateway start published its status again (and
its home's first device the home's): 1.4-1.5 statuses per message in a restarted gateway's
first minutes at 10 000 homes (issue 18). Real mosquitto, the real ``gateway.service.run``
stopped and started again, each on a simulated clock so deadlines pass in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from eldercare.broker import LocalMosquitto
from eldercare.bus import Outgoing, RetainedRead
from eldercare.clock import SimulatedClock
from eldercare.db import create_engine, migrate
from eldercare.models import (
    BatteryHealth,
    DeviceState,
    DeviceStatus,
    Event,
    EventType,
    Metric,
    Telemetry,
)
from eldercare.settings import Settings
from eldercare.topics import Topics
from gateway import service
from gateway.registry import DeviceSpec, HomeSpec, Registry
from gateway.service import LANE_CLIENT_ID
from gateway.service import run as run_gateway
from tests.gateway_support import START, decoded, device, make_gateway
from tests.harness import task_running

pytestmark = pytest.mark.integration

TOPICS = Topics()
MAIN = "eldercare-gateway"
#: door's deadline is 2 × 30 + 60 = 120 s, pir's 2 × 120 + 60 = 300 s, the buttons' hours.
HOMES = {
    "h-a": [
        DeviceSpec("btn", "call_button"),
        DeviceSpec("pir", "motion", heartbeat_s=120),
        DeviceSpec("door", "door", heartbeat_s=30),
    ],
    "h-b": [DeviceSpec("btn", "call_button"), DeviceSpec("pir", "motion")],
}
#: (home, device, state) of a status, or of the home's for device "home-gateway".
Seen = tuple[str, str, str]


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[Registry]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
    await migrate(engine)
    registry = Registry(engine, SimulatedClock(START))
    for home, devices in HOMES.items():
        await registry.upsert_home(HomeSpec(id=home, devices=devices))
    try:
        yield registry
    finally:
        await engine.dispose()


class Spy:
    """The statuses the running gateway publishes (live: the broker's retained copies,
    delivered on subscribing with the retain flag, are the past) and the events."""

    def __init__(self) -> None:
        self.topics: list[str] = []
        self.statuses: list[Seen] = []
        self.events: list[tuple[str, str]] = []
        #: By client id: the gateway's main session and its lane.
        self.online = {client_id: asyncio.Event() for client_id in (MAIN, LANE_CLIENT_ID)}

    def take(self, message: aiomqtt.Message) -> None:
        if message.retain:
            return
        topic = message.topic.value
        self.topics.append(topic)
        try:
            body = json.loads(message.payload)  # type: ignore[arg-type]
        except ValueError:
            return
        if client_id := next((c for c in self.online if topic == TOPICS.service_status(c)), None):
            if body["state"] == "online":
                self.online[client_id].set()
        elif topic.endswith("/status") and "/_normalised/" in topic:
            self.statuses.append((body["home"], body["device"], body["state"]))
        elif topic.endswith("/event"):
            self.events.append((body["home"], body["device"]))


@contextlib.asynccontextmanager
async def spying(broker: LocalMosquitto) -> AsyncIterator[Spy]:
    spy = Spy()
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier="spy") as client:
        await client.subscribe(TOPICS.normalised_filter("status"), qos=1)
        await client.subscribe(TOPICS.normalised_filter("event"), qos=1)
        for client_id in spy.online:
            await client.subscribe(TOPICS.service_status(client_id), qos=1)

        async def read() -> None:
            async for message in client.messages:
                spy.take(message)

        reader = asyncio.create_task(read())
        try:
            yield spy
        finally:
            reader.cancel()


@contextlib.asynccontextmanager
async def gateway_running(
    broker: LocalMosquitto, registry: Registry, clock: SimulatedClock, spy: Spy, tmp_path: Path
) -> AsyncIterator[asyncio.Task[None]]:
    """``eldercare run gateway`` in-process, online (subscribed) before the block runs."""
    settings = Settings(broker_url=broker.url, data_dir=tmp_path, log_level="WARNING")
    spy.online[MAIN].clear()
    gateway = run_gateway(settings, clock, registry.engine)
    async with task_running(gateway, spy.online[MAIN].wait, timeout=20) as task:
        yield task


async def heard(
    broker: LocalMosquitto, spy: Spy, clock: SimulatedClock, devices: list[tuple[str, str]]
) -> None:
    """Each device sends a heartbeat; returns once the gateway republished them all, so any
    status they made (published before each event, in order) has been seen."""
    before = len(spy.events)
    async with aiomqtt.Client("127.0.0.1", broker.port) as home:
        for seq, (home_id, device_id) in enumerate(devices):
            beat = Event(
                home=home_id, device=device_id, seq=seq, ts=clock.now(), type=EventType.HEARTBEAT
            )
            await home.publish(TOPICS.device(home_id, device_id, "event"), beat.to_json(), qos=1)
    await eventually(lambda: len(spy.events) >= before + len(devices))


async def eventually(done: Callable[[], bool], clock: SimulatedClock | None = None) -> None:
    """Wait (real time) until ``done()``, moving the simulated clock 5 s a step if given."""
    async with asyncio.timeout(20):
        while not done():
            if clock is not None:
                await clock.advance(5)
            await asyncio.sleep(0.02)


async def test_a_restarted_gateway_publishes_only_the_statuses_that_changed(
    mosquitto: LocalMosquitto, registry: Registry, tmp_path: Path
) -> None:
    everyone = [("h-a", "btn"), ("h-a", "pir"), ("h-a", "door"), ("h-b", "btn"), ("h-b", "pir")]
    async with spying(mosquitto) as spy:
        # Before the restart: everyone heard (online, both homes too), then door goes quiet.
        clock = SimulatedClock(START)
        async with gateway_running(mosquitto, registry, clock, spy, tmp_path):
            await heard(mosquitto, spy, clock, everyone)
            await eventually(lambda: ("h-a", "door", "offline") in spy.statuses, clock)
        assert len(spy.statuses) == 8  # 5 devices and 2 homes online, door offline
        vandalised = list(malformed_statuses())
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as vandal:
            for topic, payload in vandalised:
                await vandal.publish(topic, payload, qos=1, retain=True)
        await eventually(lambda: {topic for topic, _ in vandalised} <= set(spy.topics))

        spy.statuses.clear()
        clock = SimulatedClock(START + timedelta(minutes=10))
        async with gateway_running(mosquitto, registry, clock, spy, tmp_path) as restarted:
            # btn as it was: nothing; door came back and h-b's pir has no readable status:
            # published, and their homes stay online as retained.
            await heard(mosquitto, spy, clock, [("h-a", "btn"), ("h-a", "door"), ("h-b", "pir")])
            assert sorted(spy.statuses) == [("h-a", "door", "online"), ("h-b", "pir", "online")]
            # Restored online is no excuse for silence: h-a's pir, never heard since the
            # restart, goes offline at its deadline (door, silent again, at its own).
            spy.statuses.clear()
            await eventually(lambda: ("h-a", "pir", "offline") in spy.statuses, clock)
            assert clock.now() - START - timedelta(minutes=10) <= timedelta(seconds=330)
            assert set(spy.statuses) == {("h-a", "door", "offline"), ("h-a", "pir", "offline")}
            assert not restarted.done()


async def test_a_press_while_the_statuses_are_read_goes_through_the_lane_and_stays_decided(
    mosquitto: LocalMosquitto, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read must not hold up a call press (the lane serves meanwhile), nor undo what the
    press decided with the older retained status (here ``offline``), nor lose what the main
    session got meanwhile: a QoS 0 reading, which the broker keeps for no one, waits in the
    subscribed session and is handled once the read is done."""
    await retain(mosquitto, retained("h-a", "btn", DeviceState.OFFLINE, battery=BatteryHealth.OK))
    released = hold_the_read(monkeypatch)
    clock = SimulatedClock(START)
    settings = Settings(broker_url=mosquitto.url, data_dir=tmp_path, log_level="WARNING")
    async with spying(mosquitto) as spy:
        running = run_gateway(settings, clock, registry.engine)
        async with (
            task_running(running, spy.online[MAIN].wait, timeout=20),
            aiomqtt.Client("127.0.0.1", mosquitto.port) as reader,
        ):
            await reader.subscribe(TOPICS.normalised_filter("telemetry"), qos=0)
            async with aiomqtt.Client("127.0.0.1", mosquitto.port) as home:
                press = Event(home="h-a", device="btn", seq=1, ts=START, type=EventType.CALL_BUTTON)
                await home.publish(TOPICS.device("h-a", "btn", "event"), press.to_json(), qos=1)
                await home.publish(TOPICS.device("h-a", "pir", "telemetry"), battery(), qos=0)
            await eventually(lambda: ("h-a", "btn") in spy.events)
            assert ("h-a", "btn", "online") in spy.statuses
            released.set()
            async with asyncio.timeout(10):
                reading = await anext(aiter(reader.messages))
            assert reading.topic.matches(TOPICS.normalised_filter("telemetry"))
            spy.statuses.clear()
            await heard(mosquitto, spy, clock, [("h-a", "btn")])
            assert spy.statuses == []  # online since the press, whatever the read said


async def test_ticks_due_during_the_read_wait_for_it(
    mosquitto: LocalMosquitto, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock runs from the start (ticks fall due while the read lasts) but a tick waits
    for the read: before it, h-a's pir (retained ``offline``, silent past its deadline) would
    be published ``offline`` again, the very republishing the read is there to spare."""
    await retain(mosquitto, retained("h-a", "pir", DeviceState.OFFLINE, battery=BatteryHealth.OK))
    released = hold_the_read(monkeypatch)
    clock = SimulatedClock(START)
    async with (
        spying(mosquitto) as spy,
        gateway_running(mosquitto, registry, clock, spy, tmp_path),
    ):
        await clock.advance(310)  # door's deadline (120 s) and pir's (300 s) passed
        await asyncio.sleep(0.2)
        assert spy.statuses == []
        released.set()
        await eventually(lambda: ("h-a", "door", "offline") in spy.statuses)
        assert clock.now() == START + timedelta(seconds=310)  # the tick due during the read
        assert ("h-a", "pir", "offline") not in spy.statuses


async def test_a_read_cut_short_by_its_limit_is_counted_and_the_gateway_carries_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At its 60 s limit the read ends whatever still comes: what it took is kept (here
    h-a's btn, whose home status goes out), the rest stays unknown, and messages go on."""
    gateway = make_gateway([device("h-a", "btn", "call_button")])

    async def cut_short(_settings: Any, _client: str, _filter: str, take: Any) -> RetainedRead:
        take(*retained("h-a", "btn", DeviceState.ONLINE, battery=BatteryHealth.OK))
        return RetainedRead(messages=1, seconds=60.0, complete=False)

    monkeypatch.setattr(service, "read_retained", cut_short)
    published: list[Outgoing] = []

    async def publish(message: Outgoing) -> None:
        published.append(message)

    gateway.statuses_read.clear()
    await gateway.restore_statuses(publish)
    assert gateway.reads_cut_short == 1 and gateway.restored == {"restored": 1}
    assert [s["device"] for s in decoded(published, "status")] == ["home-gateway"]
    assert gateway.statuses_read.is_set()


async def test_the_main_sessions_messages_retained_reports_too_wait_for_the_read() -> None:
    gateway = make_gateway([device("h-a", "btn", "call_button")])
    gateway.statuses_read.clear()
    topic = TOPICS.device("h-a", "btn", "event")
    waiting = [
        asyncio.create_task(handle(topic, heartbeat(seq)))
        for seq, handle in enumerate((gateway.handle, gateway.handle_retained))
    ]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in waiting)
    gateway.statuses_read.set()
    async with asyncio.timeout(5):
        await asyncio.gather(*waiting)


def heartbeat(seq: int) -> bytes:
    return Event(home="h-a", device="btn", seq=seq, ts=START, type=EventType.HEARTBEAT).to_json()


def hold_the_read(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The gateway's read of its retained statuses waits until the event is set."""
    released = asyncio.Event()
    read = service.read_retained

    async def held(*args: Any, **kwargs: Any) -> Any:
        await released.wait()
        return await read(*args, **kwargs)

    monkeypatch.setattr(service, "read_retained", held)
    return released


async def retain(broker: LocalMosquitto, status: tuple[str, bytes]) -> None:
    """A status the gateway published before its restart, retained on the broker."""
    async with aiomqtt.Client("127.0.0.1", broker.port) as before:
        await before.publish(*status, qos=1, retain=True)


def battery() -> bytes:
    return Telemetry(
        home="h-a", device="pir", seq=1, ts=START, metric=Metric.BATTERY, value=80.0
    ).to_json()


def malformed_statuses() -> Iterator[tuple[str, bytes]]:
    """What a restarted gateway must survive on its status topics: garbage over h-b's pir,
    a status on another device's topic, and one of a device the registry does not hold."""
    yield TOPICS.normalised("h-b", "pir", "status"), b"not json {"
    stray = DeviceStatus(home="h-a", device="door", state=DeviceState.ONLINE, ts=START)
    yield TOPICS.normalised("h-b", "btn", "status"), stray.to_json()
    gone = DeviceStatus(home="h-z", device="pir", state=DeviceState.ONLINE, ts=START)
    yield TOPICS.normalised("h-z", "pir", "status"), gone.to_json()


def retained(home: str, device_id: str, state: DeviceState, **fields: object) -> tuple[str, bytes]:
    status = DeviceStatus(home=home, device=device_id, state=state, ts=START, **fields)  # type: ignore[arg-type]
    return TOPICS.normalised(home, device_id, "status"), status.to_json()


async def test_restored_devices_give_their_home_the_status_the_broker_lacks() -> None:
    gateway = make_gateway(
        [device("h-a", "btn", "call_button"), device("h-b", "btn", "call_button")]
    )
    online = DeviceState.ONLINE
    for home in ("h-a", "h-b"):
        gateway.restore_status(*retained(home, "btn", online, battery=BatteryHealth.OK))
    gateway.restore_status(*retained("h-b", "home-gateway", online))
    homes = decoded(gateway.restored_homes(), "status")
    assert [(s["home"], s["device"], s["state"]) for s in homes] == [
        ("h-a", "home-gateway", "online")
    ]
    assert gateway.restored == {"restored": 3}


async def test_only_what_presence_published_is_restored() -> None:
    """The rate limiter's flag (no battery) is replaced by the first message as before; a
    low battery stays low without a reading; garbage is counted."""
    gateway = make_gateway([device("h-a", "btn", "call_button"), device("h-a", "pir", "motion")])
    flag = retained("h-a", "btn", DeviceState.ONLINE, reason="rate_limited: 50 in 10 s")
    gateway.restore_status(*flag)
    low = retained("h-a", "pir", DeviceState.ONLINE, battery=BatteryHealth.LOW)
    gateway.restore_status(*low)
    gateway.restore_status(TOPICS.normalised("h-a", "pir", "status"), b"\xff")
    assert gateway.restored == {"ignored": 1, "restored": 1, "malformed": 1}
    assert [s["device"] for s in decoded(gateway.restored_homes(), "status")] == ["home-gateway"]
    assert decoded(gateway.tick(), "status") == []
    beat = Event(home="h-a", device="btn", seq=1, ts=START, type=EventType.HEARTBEAT)
    out = await gateway.handle(TOPICS.device("h-a", "btn", "event"), beat.to_json())
    assert [(s["device"], s["state"]) for s in decoded(out, "status")] == [("btn", "online")]


async def test_what_was_observed_since_the_start_wins_over_the_read() -> None:
    """A press in the lane may come while the read is still taking the retained statuses in:
    the older ``offline`` read after it must not undo the ``online`` it published."""
    gateway = make_gateway([device("h-a", "btn", "call_button")])
    press = Event(home="h-a", device="btn", seq=1, ts=START, type=EventType.CALL_BUTTON)
    await gateway.handle_lane(TOPICS.device("h-a", "btn", "event"), press.to_json())
    gateway.restore_status(*retained("h-a", "btn", DeviceState.OFFLINE, battery=BatteryHealth.OK))
    gateway.restore_status(*retained("h-a", "home-gateway", DeviceState.OFFLINE))
    assert gateway.restored == {"ignored": 2}
    beat = Event(home="h-a", device="btn", seq=2, ts=START, type=EventType.HEARTBEAT)
    out = await gateway.handle(TOPICS.device("h-a", "btn", "event"), beat.to_json())
    assert decoded(out, "status") == [] and gateway.restored_homes() == []
