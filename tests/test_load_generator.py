"""The load generator's traffic is what the gateway accepts: valid, current, in sequence."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from eldercare.models import Event, Telemetry
from eldercare.topics import Channel, Topics
from simulator.layout import STANDARD_DEVICES, WALL_BUTTON
from simulator.load import DeviceTraffic

TOPICS = Topics()
REGISTERED = {spec.id for spec in STANDARD_DEVICES}


def test_every_message_parses_as_the_contract_says_and_is_stamped_now() -> None:
    traffic = DeviceTraffic([f"h-{n}" for n in range(50)], stream_share=0.1)
    messages = [*traffic.batch(2000), traffic.press("h-3", WALL_BUTTON)]
    seqs: dict[tuple[str, str], list[int]] = defaultdict(list)
    types: set[str] = set()
    for topic, payload in messages:
        parsed = TOPICS.parse_device(topic)
        model = Event if parsed.channel is Channel.EVENT else Telemetry
        message = model.model_validate_json(payload)
        assert (message.home, message.device) == (parsed.home, parsed.device)
        assert message.device in REGISTERED
        assert abs(datetime.now(UTC) - message.ts) < timedelta(seconds=5)
        seqs[(message.home, message.device)].append(message.seq)
        types.add(str(getattr(message, "type", None) or message.metric))
    assert all(s == sorted(set(s)) for s in seqs.values()), "seq rises per device"
    assert {"motion", "heartbeat", "temperature", "accel", "call_button"} <= types
    assert traffic.counts[Channel.EVENT] + traffic.counts[Channel.TELEMETRY] == len(messages)


def test_without_streaming_pendants_there_is_no_accelerometer_traffic() -> None:
    traffic = DeviceTraffic(["h-1", "h-2"], stream_share=0)
    assert not any(b'"accel"' in payload for _, payload in traffic.batch(500))


def test_the_roll_call_hears_every_device_of_every_home_once_and_counts_it() -> None:
    """The bench's warm-up (issue 18): a gateway that has heard every device publishes no
    first-contact statuses; a device left out, or a message not counted, would hide that."""
    homes = [f"h-{n}" for n in range(7)]
    traffic = DeviceTraffic(homes)
    traffic.batch(30)  # seqs go on from ordinary traffic
    batches = list(traffic.roll_call(sorted(REGISTERED), 10))
    assert all(len(batch) <= 10 for batch in batches)
    heard = []
    for topic, payload in (message for batch in batches for message in batch):
        event = Event.model_validate_json(payload)
        assert TOPICS.parse_device(topic).channel is Channel.EVENT
        assert str(event.type) == "heartbeat"
        assert abs(datetime.now(UTC) - event.ts) < timedelta(seconds=5)
        heard.append((event.home, event.device))
    assert sorted(heard) == sorted((h, d) for h in homes for d in REGISTERED)
    assert traffic.counts[Channel.EVENT] + traffic.counts[Channel.TELEMETRY] == 30 + len(heard)
