"""The simulated world: reproducible, contract-clean, and statistically like real homes."""

from __future__ import annotations

import itertools
import json
import random
import statistics
from collections import Counter, defaultdict
from datetime import datetime

import numpy as np
import pytest

from eldercare.models import DeviceStatus, Event, Telemetry
from eldercare.topics import Channel, Topics
from simulator.faults import FaultPlan
from simulator.homes import Emission, SimulatedHome
from simulator.layout import PIR, ROOM_OF_PIR, Room, adjacent
from simulator.life import HomeLife, LifeConfig
from simulator.profiles import DAY_MIN, MAX_NIGHT_MIN, Resident, bundled_profiles, profile
from simulator.routine import DAY_S, Act
from simulator.scenarios import SCENARIO_DIR, load_scenarios
from simulator.stream import normal_lives, run_stream, stage

CONFIG = LifeConfig()
MODELS = {Channel.EVENT: Event, Channel.TELEMETRY: Telemetry, Channel.STATUS: DeviceStatus}


def stream_of(lives: list[HomeLife], days: float, **faults: float) -> list[Emission]:
    return list(run_stream(lives, CONFIG.start + days * DAY_S, FaultPlan(**faults), seed=7))


def test_same_seed_gives_the_identical_stream_and_another_seed_does_not() -> None:
    first = stream_of(normal_lives(3, seed=42), days=2)
    again = stream_of(normal_lives(3, seed=42), days=2)
    other = stream_of(normal_lives(3, seed=43), days=2)
    assert len(first) > 3000
    assert [(e.at, e.topic, e.payload) for e in first] == [
        (e.at, e.topic, e.payload) for e in again
    ]
    assert [e.payload for e in first] != [e.payload for e in other]


def test_a_home_lives_the_same_life_whoever_its_neighbours_are() -> None:
    """Seeds are per home, so adding homes to a run does not change the others."""
    alone = stream_of(normal_lives(1, seed=5), days=1)
    crowded = [e for e in stream_of(normal_lives(4, seed=5), days=1) if e.home == "h-0001"]
    assert [e.payload for e in alone] == [e.payload for e in crowded]


def test_every_payload_is_a_valid_contract_message_in_time_and_seq_order() -> None:
    emissions = stream_of(normal_lives(2, seed=1), days=2)
    topics = Topics()
    last_seq: dict[tuple[str, str], int] = {}
    last_at = 0.0
    for emission in emissions:
        assert emission.at >= last_at
        last_at = emission.at
        parsed = topics.parse_device(emission.topic)
        message = MODELS[parsed.channel].model_validate_json(emission.payload)
        assert (message.home, message.device) == (parsed.home, parsed.device)
        seq = getattr(message, "seq", None)
        if seq is not None:
            key = (message.home, message.device)
            assert seq == last_seq.get(key, 0) + 1, "seq must count up by one per device"
            last_seq[key] = seq
    kinds = Counter(e.kind for e in emissions)
    for expected in ("motion", "door_open", "bed_empty", "toilet_flush", "heartbeat", "accel"):
        assert kinds[expected] > 0, expected
    for metric in ("temperature", "humidity", "battery"):
        assert kinds[metric] > 0, metric


def _wake_times_from_stream(emissions: list[Emission], days: int) -> list[float]:
    """Wake-up as the sensors tell it: the bed mat's last 'empty' of the morning that is
    not followed by lying down again within an hour."""
    bed = [
        (e.at, e.kind)
        for e in emissions
        if e.device == "bed-bedroom" and e.kind in {"bed_empty", "bed_occupied"}
    ]
    wakes = []
    for day in range(days):
        midnight = CONFIG.start + day * DAY_S
        morning = [
            (index, at)
            for index, (at, kind) in enumerate(bed)
            if kind == "bed_empty" and midnight + 4 * 3600 <= at < midnight + 12 * 3600
        ]
        for index, at in reversed(morning):
            following = bed[index + 1][0] if index + 1 < len(bed) else float("inf")
            if following - at > 3600:
                wakes.append((at - midnight) / 60)
                break
    return wakes


def test_wake_time_distribution_matches_the_residents_profile() -> None:
    days = 60
    life = normal_lives(1, seed=3, profile_name="typical")[0]
    emissions = stream_of([life], days=days)
    wakes = _wake_times_from_stream(emissions, days)
    assert len(wakes) >= days - 2
    habit = life.resident.profile.wake
    mean, spread = statistics.fmean(wakes), statistics.stdev(wakes)
    # the person's own habit (not the population mean) is what the days scatter around
    assert abs(mean - life.resident.wake_min) < 3 * habit.day_sd_min / len(wakes) ** 0.5 + 1
    assert 0.7 * habit.day_sd_min < spread < 1.35 * habit.day_sd_min
    # and people differ: residents drawn from one profile do not share one wake time
    residents = [one.resident.wake_min for one in normal_lives(40, seed=3, profile_name="typical")]
    assert statistics.stdev(residents) > 0.5 * habit.person_sd_min


@pytest.mark.parametrize("name", bundled_profiles())
def test_motion_events_per_day_are_in_a_realistic_range(name: str) -> None:
    """Real single-resident homes with blind-time PIRs log a few hundred motion events a day."""
    days = 7
    emissions = stream_of(normal_lives(2, seed=11, profile_name=name), days=days)
    per_home = Counter(e.home for e in emissions if e.kind == "motion")
    for count in per_home.values():
        assert 100 <= count / days <= 1000, (name, count / days)
    nights = [e for e in emissions if e.kind == "motion" and _local_hour(e.at) in {1, 2, 3, 4}]
    assert len(nights) / days / 2 < 15, "nights are mostly still"


def _local_hour(at: float) -> int:
    return int(((at + CONFIG.utc_offset_s) % DAY_S) // 3600)


def test_no_motion_in_two_rooms_at_once_beyond_sensor_overlap() -> None:
    """One person cannot be seen in two non-adjacent rooms closer in time than a walk."""
    lives = normal_lives(3, seed=21, keep_plans=True)
    emissions = stream_of(lives, days=7)
    visits = defaultdict(list)
    for life in lives:
        for plan in life.plans:
            visits[life.home.home_id] += [(v.start - 60, v.end + 60) for v in plan.visits]
    last: dict[str, dict[Room, float]] = defaultdict(dict)
    checked = 0
    for emission in emissions:
        if emission.kind != "motion":
            continue
        room = ROOM_OF_PIR[emission.device]
        if any(start <= emission.at <= end for start, end in visits[emission.home]):
            last.pop(emission.home, None)
            continue
        for other, seen in last[emission.home].items():
            if not adjacent(other, room) and emission.at - seen < 600:
                checked += 1
                assert emission.at - seen >= 2.0, (emission.home, other, room, seen)
        last[emission.home][room] = emission.at
    assert checked > 100


def test_no_motion_at_home_while_the_resident_is_out_alone() -> None:
    lives = normal_lives(2, seed=8, keep_plans=True, profile_name="active")
    emissions = stream_of(lives, days=5)
    for life in lives:
        busy = [(v.start, v.end) for plan in life.plans for v in plan.visits]
        out = [
            (s.start + 10, s.end - 10)
            for plan in life.plans
            for s in plan.segments
            if s.room is None and not any(a < s.end and s.start < b for a, b in busy)
        ]
        assert out, "an active resident goes out"
        moving = [e.at for e in emissions if e.home == life.home.home_id and e.kind == "motion"]
        assert not [at for at in moving if any(a <= at < b for a, b in out)]


def test_frail_residents_move_slower() -> None:
    def walks(name: str) -> float:
        lives = normal_lives(3, seed=2, profile_name=name, keep_plans=True)
        stream_of(lives, days=2)
        return statistics.fmean(
            s.duration
            for life in lives
            for p in life.plans
            for s in p.segments
            if s.act is Act.WALK
        )

    assert walks("frail") > 1.8 * walks("typical")


def _accel(emission: Emission) -> np.ndarray:
    message = Telemetry.model_validate_json(emission.payload)
    assert message.rate_hz == CONFIG.accel_rate_hz
    return np.array(message.samples)


def test_pendant_sends_short_batched_windows_and_a_fall_is_impact_then_stillness() -> None:
    fall = next(s for s in load_scenarios() if s.name == "fall_bathroom_no_recovery")
    staged = stage(fall, day=1, seed=4)
    emissions = list(run_stream([staged.life], staged.at + 600))
    windows = [e for e in emissions if e.kind == "accel"]
    assert 10 < len([e for e in windows if e.at < CONFIG.start + DAY_S]) < 300, "batched"
    everyday = [_accel(e) for e in windows if e.at < staged.at - 300]
    for samples in everyday:
        assert len(samples) <= 4 * CONFIG.accel_rate_hz
        magnitude = np.linalg.norm(samples, axis=1)
        assert 0.5 < np.median(magnitude) < 1.5
        assert magnitude.max() < 2.2, "walking and sitting down stay under 2.2 g"
    impact = [e for e in windows if staged.at - 5 <= e.at <= staged.at + 1]
    assert len(impact) == 1
    samples = _accel(impact[0])
    magnitude = np.linalg.norm(samples, axis=1)
    rate = CONFIG.accel_rate_hz
    assert magnitude.max() > 2.4
    peak = int(magnitude.argmax())
    assert magnitude[peak - int(0.3 * rate) : peak].min() < 0.6, "free fall before impact"
    after = samples[peak + int(1.5 * rate) :]
    assert np.linalg.norm(after, axis=1).std() < 0.05, "still after the impact"
    before = samples[: int(0.5 * rate)].mean(axis=0)
    lying = after.mean(axis=0)
    angle = np.degrees(np.arccos(before @ lying / np.linalg.norm(before) / np.linalg.norm(lying)))
    assert angle > 45, "gravity points another way: lying on the floor"
    # and after the fall nothing moves: no motion sensor fires and the pendant stays quiet
    later = [e for e in emissions if e.at > staged.at + 5 and e.kind in {"motion", "accel"}]
    assert later == []


def test_faults_are_injected_at_the_planned_rates() -> None:
    clean = stream_of(normal_lives(2, seed=9), days=1)
    faulty = stream_of(
        normal_lives(2, seed=9),
        days=1,
        duplicate=0.05,
        out_of_order=0.05,
        garbage=0.01,
        skewed_devices=0.5,
        max_skew_s=60,
    )
    payloads = Counter(e.payload for e in faulty if e.kind != "garbage")
    duplicates = sum(count - 1 for count in payloads.values())
    assert 0.03 < duplicates / len(clean) < 0.07
    garbage = [e for e in faulty if e.kind == "garbage"]
    assert 0.005 < len(garbage) / len(clean) < 0.02
    late = sum(
        1
        for before, after in itertools.pairwise(faulty)
        if _ts(after) is not None and _ts(before) is not None and _ts(after) < _ts(before) - 1
    )
    assert late > 0.01 * len(clean), "some messages arrive after younger ones"
    assert [e.at for e in faulty] == sorted(e.at for e in faulty), "delivery stays ordered"


def _ts(emission: Emission) -> float | None:
    try:
        return datetime.fromisoformat(json.loads(emission.payload)["ts"]).timestamp()
    except (ValueError, KeyError, TypeError):
        return None


def test_scenario_files_cover_every_incident_the_issue_names() -> None:
    scenarios = load_scenarios()
    assert {s.name for s in scenarios} == {p.stem for p in SCENARIO_DIR.glob("*.yaml")}
    incidents = {s.incident.kind for s in scenarios}
    assert incidents >= {
        "fall",
        "stay_in_bed",
        "bathroom_stay",
        "wander_out",
        "door_left_open",
        "hazard",
        "heat_wave",
        "call_button",
        "battery_low",
        "sensor_silent",
        "power_cut",
    }
    assert any(s.incident.kind == "fall" and s.incident.cancel_press_after for s in scenarios)
    for scenario in scenarios:
        assert scenario.expect or scenario.forbid, scenario.name


def test_power_cut_silences_the_home_and_the_hub_leaves_its_last_will() -> None:
    cut = next(s for s in load_scenarios() if s.name == "power_cut")
    staged = stage(cut, day=0, seed=1)
    emissions = list(run_stream([staged.life], staged.at + 3600))
    after = [e for e in emissions if e.at >= staged.at]
    assert len(after) == 1
    will = DeviceStatus.model_validate_json(after[0].payload)
    assert (will.device, will.state.value, will.ts) == ("hub", "offline", None)
    assert len([e for e in emissions if e.at < staged.at]) > 300


def test_profiles_reject_typos() -> None:
    data = profile("typical").model_dump(mode="json")
    data["wake_up"] = data.pop("wake")
    with pytest.raises(ValueError, match="wake"):
        type(profile("typical")).model_validate(data)


def test_a_bedtime_after_midnight_is_the_following_nights() -> None:
    """A bedtime of 00:30 is the small hours after the day, not those before its 06:15
    wake-up (read that way, the day plan could only clamp it to an afternoon bedtime); a
    bedtime that leaves no night before the wake-up is a mistake."""
    data = profile("active").model_dump(mode="json")
    data["bedtime"]["mean"] = "00:30"
    late = type(profile("active")).model_validate(data)
    assert late.bedtime_min == 24 * 60 + 30
    life = HomeLife(SimulatedHome("late"), late, seed=5)
    for day in range(14):
        plan = life.routine.next_plan()
        night = next(s.start for s in plan.segments if s.act is Act.SLEEP)
        hour = (night - life.routine.local_midnight(day)) / 3600
        assert 21 < hour < 28, (day, hour)
    data["bedtime"]["mean"] = "04:00"
    with pytest.raises(ValueError, match="h of night"):
        type(profile("active")).model_validate(data)


def test_a_usual_night_in_bed_is_at_most_eleven_hours() -> None:
    """Issue 20, round 9b: bedtime and wake-up are drawn apart, so a person drawn early to
    bed and late up lay 12 h in bed every night (seed 17's sim-08: 19:43 to 07:43). A
    profile may not describe such a night, and no person drawn from one has it: they stay
    up instead, and still differ from each other."""
    data = profile("frail").model_dump(mode="json")
    data["bedtime"]["mean"] = "19:00"  # 11.5 h before the 06:30 wake-up
    with pytest.raises(ValueError, match="at most 11 h of night"):
        type(profile("frail")).model_validate(data)
    data["bedtime"]["mean"] = "19:45"  # 10.75 h: a long night, but a usual one
    sleepy = type(profile("frail")).model_validate(data)
    rng = random.Random(1)
    residents = [Resident.draw(sleepy, rng) for _ in range(200)]
    nights = [r.wake_min + DAY_MIN - r.bedtime_min for r in residents]
    assert max(nights) <= MAX_NIGHT_MIN + 1e-6
    assert sum(night > MAX_NIGHT_MIN - 1e-6 for night in nights) > 20  # the tail was there
    assert statistics.stdev(r.bedtime_min for r in residents) > 15


def test_pir_names_cover_every_room() -> None:
    assert set(PIR) == set(Room)


def test_self_recovery_shows_getting_up_and_a_cancel_press_soon_after_the_impact() -> None:
    recovery = next(s for s in load_scenarios() if s.name == "fall_with_recovery")
    staged = stage(recovery, day=0, seed=6)
    emissions = list(run_stream([staged.life], staged.at + 120))
    windows = [e for e in emissions if e.kind == "accel" and e.at >= staged.at - 5]
    assert len(windows) == 2, "the impact, then getting up"
    impact, getting_up = (np.linalg.norm(_accel(e), axis=1) for e in windows)
    assert impact.max() > 2.4 and getting_up.max() < 2.0
    assert windows[1].at - staged.at == pytest.approx(12, abs=0.1)
    cancel = [e for e in emissions if e.kind == "cancel_button"]
    assert [round(e.at - staged.at) for e in cancel] == [25]


def test_a_late_start_lives_the_morning_but_sends_only_from_then_on() -> None:
    """Broker mode starts at 'now': the same life, minus what lies before it."""
    noon = CONFIG.start + 1.5 * DAY_S
    whole = [e for e in normal_lives(1, seed=12)[0].emissions(CONFIG.start + 2 * DAY_S)]
    late = list(normal_lives(1, seed=12)[0].emissions(CONFIG.start + 2 * DAY_S, since=noon))
    assert [(e.at, e.topic, e.kind) for e in late] == [
        (e.at, e.topic, e.kind) for e in whole if e.at >= noon
    ]
    assert json.loads(late[0].payload)["seq"] == 1, "nothing before was sent"
