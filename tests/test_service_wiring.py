"""Each service declares its subscriptions once; its MQTT session and the in-process harness
of ``eldercare eval scenarios`` are both built from that declaration."""

from __future__ import annotations

from datetime import datetime

from detector.rules import BaseRule, RuleOutput
from eldercare.bus import Outgoing, Subscription, dispatch
from eldercare.models import (
    Alert,
    AlertKind,
    AlertStatus,
    AlertUpdate,
    ConditionCleared,
    Event,
    EventType,
)
from simulator.evaluation import EvalConfig, evaluate
from simulator.scenarios import load_scenarios
from tests.alerting_support import make_alert


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.topics: list[str] = []

    async def handle(self, topic: str, payload: bytes) -> list[Outgoing]:
        self.topics.append(topic)
        return [Outgoing(f"{self.name}/out", payload)]


async def test_a_session_hands_each_message_to_the_first_subscription_whose_filter_matches() -> (
    None
):
    alerts, updates = Recorder("alerts"), Recorder("updates")
    handle = dispatch(
        [
            Subscription("p/+/alerts", alerts.handle),
            Subscription("p/alerts/+/updates", updates.handle),
            Subscription("p/#", updates.handle),  # matches both; never reached for them
        ]
    )
    assert [o.topic for o in await handle("p/h-1/alerts", b"a")] == ["alerts/out"]
    assert [o.topic for o in await handle("p/alerts/x/updates", b"u")] == ["updates/out"]
    assert await handle("q/h-1/alerts", b"") == []
    assert (alerts.topics, updates.topics) == (["p/h-1/alerts"], ["p/alerts/x/updates"])


def test_a_session_whose_filters_share_one_handler_gets_that_handler_itself() -> None:
    """The gateway's hot path pays no topic matching per message."""
    one = Recorder("one")
    assert dispatch([Subscription("a/#", one.handle), Subscription("b/#", one.handle)]) == (
        one.handle
    )


class RaisesThenClears(BaseRule):
    """Raises one alert on the first call-button press, says it cleared on the next tick,
    and records the verdicts that come back: alerting resolves the alert as recovered."""

    name = "raises_then_clears"
    kinds = frozenset({AlertKind.CALL_BUTTON})

    def __init__(self) -> None:
        self.raised: Alert | None = None
        self.cleared = False
        self.verdicts: list[AlertUpdate] = []

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        if self.raised is not None or event.type is not EventType.CALL_BUTTON:
            return RuleOutput()
        self.raised = make_alert(f"call-{event.home}-{event.seq}", now, home=event.home)
        return RuleOutput(alerts=[self.raised])

    def on_tick(self, now: datetime) -> RuleOutput:
        if self.raised is None or self.cleared:
            return RuleOutput()
        self.cleared = True
        cleared = ConditionCleared(
            cleared=AlertKind.CALL_BUTTON, home=self.raised.home, at=now, reason="stand-in"
        )
        return RuleOutput(cleared=[cleared])

    def on_verdict(self, update: AlertUpdate, now: datetime) -> RuleOutput:
        self.verdicts.append(update)
        return RuleOutput()


async def test_the_harness_wires_the_services_as_their_processes_do() -> None:
    """The detector's session reads the staff's verdicts; a harness wired by hand once left
    that subscription out, so rules that learn from verdicts never learnt in an evaluation."""
    rule = RaisesThenClears()
    config = EvalConfig(homes=0, days=1, learning_days=0)
    call = [s for s in load_scenarios() if s.name == "call_button"]
    await evaluate(config, call, rules=[rule])
    assert rule.raised is not None and rule.cleared
    [verdict] = rule.verdicts
    assert verdict.alert_id == rule.raised.alert_id
    assert verdict.status is AlertStatus.RESOLVED and verdict.outcome is not None
