"""A detector replica per shard: it reads only its shard's topics and homes, and its state
goes through the database to whichever instance owns the shard next (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from detector.activity.registry import SharedRegistry, apply_registry
from detector.activity.rule import InactivityRule
from detector.activity.sensors import Place
from detector.checkpoint import ShardCheckpoints, StateFile, pack
from detector.metrics import ShardTotals, detector_readings
from detector.rules import BaseRule, RuleOutput
from detector.service import STATE_FILE, Detector, import_state_file
from eldercare.clock import SimulatedClock
from eldercare.metrics import ALERTS_RAISED, RULE_FAILURES
from eldercare.models import AlertStatus, AlertUpdate, Event, EventType, Outcome
from eldercare.settings import Settings
from eldercare.shard_leases import ShardLeases
from eldercare.topics import shard_of
from gateway.registry import DeviceSpec, register_home

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
SHARDS = 4
HOME = "h-0042"


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, shard_count=SHARDS)


async def _motions(detector: Detector, clock: SimulatedClock, count: int) -> None:
    for seq in range(1, count + 1):
        clock.set(START + timedelta(minutes=seq))
        event = Event(home=HOME, device="pir", seq=seq, ts=clock.now(), type=EventType.MOTION)
        topic = detector.topics.normalised(HOME, "pir", "event")
        await detector.handle(topic, event.to_json())


def _leases(engine, clock, owner: str) -> ShardLeases:  # type: ignore[no-untyped-def]
    return ShardLeases(
        engine, clock, scope="detector", owner=owner, shard_count=SHARDS, ttl=timedelta(seconds=15)
    )


async def test_the_next_owner_of_a_shard_restores_its_state_and_the_old_one_cannot_overwrite(
    engine, tmp_path: Path
) -> None:
    clock = SimulatedClock(START)
    shard = shard_of(HOME, SHARDS)
    first = _leases(engine, clock, "a")
    await first.round()
    assert shard in first.owned
    before = Detector(_settings(tmp_path), clock, shard=shard)
    await _motions(before, clock, 5)
    assert await ShardCheckpoints(engine, "a").save(shard, before.rules, clock.now())

    clock.set(clock.now() + timedelta(seconds=16))  # "a" died: its leases lapsed
    second = _leases(engine, clock, "b")
    assert shard in (await second.round()).acquired
    after = Detector(_settings(tmp_path), clock, shard=shard)
    assert pack(after.rules) != pack(before.rules)
    assert await ShardCheckpoints(engine, "b").load(shard, after.rules)
    assert pack(after.rules) == pack(before.rules)

    # "a" wakes up with older state: its save is refused, the new owner's state stays.
    stale = Detector(_settings(tmp_path), clock, shard=shard)
    assert not await ShardCheckpoints(engine, "a").save(shard, stale.rules, clock.now())
    again = Detector(_settings(tmp_path), clock, shard=shard)
    assert await ShardCheckpoints(engine, "b").load(shard, again.rules)
    assert pack(again.rules) == pack(before.rules)


class _Verdicts(BaseRule):
    name = "verdicts"

    def __init__(self) -> None:
        self.homes: list[str] = []

    def on_verdict(self, update: AlertUpdate, now: datetime) -> RuleOutput:
        self.homes.append(update.home)
        return RuleOutput()


async def test_a_shard_s_detector_reads_its_shard_alone_and_ignores_other_homes_verdicts(
    tmp_path: Path,
) -> None:
    spy = _Verdicts()
    detector = Detector(_settings(tmp_path), SimulatedClock(START), rules=[spy], shard=1)
    filters = [s.topic_filter for s in detector.subscriptions()]
    assert "eldercare/v1/_normalised/01/+/+/event" in filters
    assert all("/_normalised/01/" in f for f in filters if "_normalised" in f)
    lanes = [s.topic_filter for s in detector.lane_subscriptions()]
    assert lanes == ["eldercare/v1/_lifesafety/01/+/+/event"]
    homes = [f"h-{n:04d}" for n in range(100)]
    ours = next(h for h in homes if shard_of(h, SHARDS) == 1)
    other = next(h for h in homes if shard_of(h, SHARDS) != 1)
    for home in (ours, other):
        verdict = AlertUpdate(
            alert_id="a1",
            home=home,
            status=AlertStatus.RESOLVED,
            at=START,
            outcome=Outcome.FALSE_ALARM,
        )
        await detector.handle(detector.topics.alert_updates("a1"), verdict.to_json())
    assert spy.homes == [ours]  # every shard's session sees every verdict; one learns


async def test_shards_of_one_instance_share_one_registry_read_of_their_own_homes(
    engine, tmp_path: Path
) -> None:
    homes = [f"h-{n:04d}" for n in range(1, 13)]
    for home in homes:
        await register_home(engine, home, [DeviceSpec("pir-1", "motion", "kitchen")], now=START)
    clock = SimulatedClock(START)
    owned = {0, 2}
    registry = SharedRegistry(engine, clock, 60, SHARDS, lambda: owned)
    first = await registry.get(0)
    assert await registry.get(2) is first  # a second owned shard within the minute: no read
    read = {home for home, *_ in first.devices}
    assert read == {h for h in homes if shard_of(h, SHARDS) in owned}  # selected in SQL
    assert {home for home, _ in first.timezones} == read
    owned.add(1)
    taken_over = await registry.get(1)  # a shard acquired since: read again, with it
    assert {h for h, *_ in taken_over.devices} == {h for h in homes if shard_of(h, SHARDS) < 3}
    clock.set(START + timedelta(seconds=61))
    assert await registry.get(0) is taken_over  # a minute on, the registry's version stays
    await register_home(engine, "h-0099", [DeviceSpec("pir-1", "motion", "hall")], now=START)
    assert await registry.get(0) is taken_over  # checked within the minute: not yet seen
    clock.set(START + timedelta(seconds=122))
    moved = await registry.get(0)
    assert moved is not taken_over  # the version moved: read again
    assert ("h-0099" in {h for h, *_ in moved.devices}) == (shard_of("h-0099", SHARDS) < 3)
    for shard in owned:
        rule = InactivityRule()
        detector = Detector(_settings(tmp_path), clock, rules=[rule], shard=shard)
        mine = [home for home in homes if shard_of(home, SHARDS) == shard]
        assert apply_registry(taken_over, rule, clock.now(), keep=detector.serves) == len(mine)
        assert all(rule.directory.lookup(h, "pir-1").place is Place.KITCHEN for h in mine)


def test_a_replica_s_counters_sum_its_shards_and_keep_a_handed_over_shard_s_counts(
    tmp_path: Path,
) -> None:
    totals = ShardTotals()
    first = Detector(_settings(tmp_path), SimulatedClock(START), shard=0)
    second = Detector(_settings(tmp_path), SimulatedClock(START), shard=1)
    first.alerts_raised["call_button"] += 2
    second.alerts_raised["call_button"] += 1
    second.rule_failures["fall"] = 1
    totals.serving(0, first)
    totals.serving(1, second)

    def readings() -> dict[tuple[str, tuple[str, ...]], float]:
        return {
            (metric.name, labels): value
            for metric, labels, value in detector_readings(totals, None)()
        }

    before = readings()
    assert before[(ALERTS_RAISED.name, ("call_button",))] == 3
    assert before[(RULE_FAILURES.name, ("fall",))] == 1
    assert before[(RULE_FAILURES.name, ("call_button",))] == 0  # every rule, from 0
    totals.retire(1)  # handed over: its counts stay, so no counter goes down
    assert readings() == before


async def test_switching_to_replicas_splits_the_single_instance_s_state_file_by_shard(
    engine, tmp_path: Path
) -> None:
    """The upgrade path: homes keep what the single instance learnt; a shard that has state
    in the database already keeps it; the file is imported once."""
    clock = SimulatedClock(START)
    settings = Settings(data_dir=tmp_path, shard_count=SHARDS, replicas=True)
    single = Detector(_settings(tmp_path), clock)  # no shard: every home, as before
    homes = [f"h-{n:04d}" for n in range(1, 9)]
    for seq, home in enumerate(homes, start=1):
        clock.set(START + timedelta(minutes=seq))
        event = Event(home=home, device="pir", seq=seq, ts=clock.now(), type=EventType.MOTION)
        await single.handle(single.topics.normalised(home, "pir", "event"), event.to_json())
    StateFile(tmp_path / STATE_FILE).save(single.rules)
    checkpoints = ShardCheckpoints(engine, "a")
    kept = Detector(settings, clock, shard=0)  # shard 0 was served by a replica already
    assert await checkpoints.import_once(0, kept.rules, clock.now())

    await import_state_file(settings, clock, checkpoints)

    assert not (tmp_path / STATE_FILE).exists()
    assert (tmp_path / STATE_FILE).with_suffix(".imported").exists()
    for shard in range(SHARDS):
        restored = Detector(settings, clock, shard=shard)
        assert await checkpoints.load(shard, restored.rules)
        inactivity = next(r for r in restored.rules if isinstance(r, InactivityRule))
        expected = set() if shard == 0 else {h for h in homes if shard_of(h, SHARDS) == shard}
        assert set(inactivity.homes) == expected, shard
    assert any(shard_of(h, SHARDS) == 0 for h in homes)  # so "kept" meant something
