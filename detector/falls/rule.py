"""The fall rule: pendant accelerometer and device-reported falls, confirmed in the home.

A suspected fall (the streaming detector alarmed on a pendant, or a device reported
``fall_suspected``) is not yet an alert. For ``confirm_s`` seconds the rule watches the
home: if nothing moves — no pendant activity, no room sensor — the fall is confirmed and
raised as a critical alert. If the resident presses cancel, or moves (self-recovery), the
suspicion is still recorded, at lower severity, so the station sees it happened without
an emergency call-out:

Pendant movement means a batch whose signal magnitude varies by at least ``movement_g``
(0.1 g: above 99 % of the seconds SisFall subjects lay still after a fall, below most
seconds of walking), or whose direction of gravity turns by at least ``posture_deg``
against the pendant's previous batch: getting up slowly from the floor changes posture
(lying → upright) with little change in magnitude.

The confirmation window starts when the fall is over (impact + aftermath, device clock)
or when the suspicion is raised, whichever is later, so a pendant that sends its window
early or late gets the same grace period.

- no movement for ``confirm_s``   → ``fall`` alert, critical
- movement within ``confirm_s``   → ``fall`` alert, medium ("check in with the resident")
- cancel press within ``confirm_s`` → ``fall`` alert, low ("cancelled by the resident")
- no movement, but the bed mat says the resident is in bed and still says so ``bed_grace_s``
  later → ``fall`` alert, medium ("in bed: check in")

Why the bed: turning over in bed is the activity most often taken for a fall (SisFall D14,
docs/falls.md), and a sleeper lies still after it, so at night it became a critical alert.
A resident whose weight is still on the bed mat is not on the floor. A fall *out of* bed
empties the mat; mats report that with some delay, hence the grace before deciding, and
the mat only counts while the home's last sign of life is the bed or bedroom (a mat stuck
at "occupied" is contradicted by activity elsewhere).

Every outcome is also a ``fall`` series point. Deadlines are checked on every message
and on the service's clock tick, so a silent home still gets its alert on time.

Open suspicions are checkpointed with the rest of the detector's state: a restart inside
the confirmation window must not lose the fall (its deadline is checked at the first tick
after the restart). A pendant whose stream is cut after an impact, before its aftermath
has arrived (a gap in its samples, or silence for ``cut_s``), has that impact decided as if
the pendant lay still from its last sample on (``FallStream.cut``), not dropped. The
pendants' sample buffers are not checkpointed, so for a detector that stops or is killed
while an impact waits, the rule keeps what a cut would decide at each batch
(``_Provisional``), saved before that batch is done with when a cut would raise it
(rarely: a suspicion-worthy impact), and a restarted detector raises it as a suspicion
(``restore``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import numpy as np

from detector.activity.rule import InactivityRule
from detector.activity.sensors import Place
from detector.alerts import stable_alert_id
from detector.falls.scoring import FallModel, Scorer, ThresholdRule, bundled_model
from detector.falls.stream import Candidate, FallConfig, FallStream
from detector.rules import BaseRule, RuleOutput
from eldercare.logs import get_logger
from eldercare.models import (
    Alert,
    AlertKind,
    Event,
    EventType,
    Evidence,
    LocalizedText,
    Metric,
    SeriesPoint,
    Severity,
    Telemetry,
)

log = get_logger("detector.falls")

#: Room events that mean somebody is up and moving.
MOVEMENT_EVENTS = frozenset(
    {EventType.MOTION, EventType.DOOR_OPEN, EventType.DOOR_CLOSE, EventType.TOILET_FLUSH}
)

#: What each severity of a resolved suspicion says happened (``in_bed`` is named apart).
_OUTCOMES = {
    Severity.CRITICAL: "confirmed",
    Severity.MEDIUM: "movement",
    Severity.LOW: "cancelled",
}


@lru_cache(maxsize=1)
def _shared_model() -> FallModel | None:
    """Loaded once per process: every detector instance uses the same read-only model."""
    return bundled_model()


def default_scorer() -> tuple[Scorer, FallConfig]:
    model = _shared_model()
    if model is None:
        log.warning("fall_model_missing", fallback="threshold rule")
        return ThresholdRule(), FallConfig()
    return model, FallConfig(**model.config)


@dataclass
class SuspectedFall:
    """One home's open suspicion, waiting for the confirmation window to end."""

    home: str
    impact_at: datetime  # device clock
    suspected_at: datetime  # detector clock
    deadline: datetime
    evidence: list[Evidence] = field(default_factory=list)
    score: float | None = None
    #: The deadline came while the bed mat said "in bed": waiting ``bed_grace`` for the mat.
    in_bed: bool = False


@dataclass(frozen=True)
class _Provisional:
    """A pendant's waiting impact that a cut now would raise: what a killed detector leaves."""

    impact_at: datetime  # device clock
    score: float
    seq: int | None
    at: datetime  # detector clock, when a cut first would have raised it


@dataclass
class _Pendant:
    stream: FallStream
    last_seen: datetime
    #: Mean acceleration at the end of the last batch: the posture the next one starts from.
    last_vector: np.ndarray | None = None
    #: The last batch's sequence number: the evidence of an impact decided after a cut.
    last_seq: int | None = None


class FallRule(BaseRule):
    name = "fall"
    kinds = frozenset({AlertKind.FALL})

    def __init__(
        self,
        scorer: Scorer | None = None,
        config: FallConfig | None = None,
        confirm_s: float = 15.0,
        movement_g: float = 0.1,
        posture_deg: float = 30.0,
        idle_s: float = 600.0,
        beds: InactivityRule | None = None,
        bed_grace_s: float = 60.0,
        cut_s: float = 5.0,
    ) -> None:
        if scorer is None:
            scorer, default_config = default_scorer()
            config = config or default_config
        self.scorer = scorer
        self.config = config or FallConfig()
        self.confirm = timedelta(seconds=confirm_s)
        self.movement_g = movement_g
        self.posture_deg = posture_deg
        self.idle = timedelta(seconds=idle_s)
        #: Silence after which a pendant waiting for an impact's aftermath counts as cut off:
        #: longer than the stream's own gap tolerance (2 s) plus a one-second batch and its
        #: transport, far shorter than the confirmation window.
        self.cut_after = timedelta(seconds=cut_s)
        #: Where the home's bed mat and last sign of life are known (the detector's own
        #: inactivity rule); None: no bed is consulted.
        self.beds = beds
        self.bed_grace = timedelta(seconds=bed_grace_s)
        self.pendants: dict[tuple[str, str], _Pendant] = {}
        #: Pendants waiting for an impact's aftermath, and when they count as cut off.
        self._awaiting: dict[tuple[str, str], datetime] = {}
        self.suspected: dict[str, SuspectedFall] = {}
        #: Per waiting pendant, the suspicion a cut now would raise (see the module's doc).
        self.provisional: dict[tuple[str, str], _Provisional] = {}
        #: Changes saved before the message that made them is acknowledged
        #: (``Detector.handle``), not only at the next tick: a confirmation window opened, a
        #: provisional suspicion made.
        self.urgent_saves = 0

    # -- messages ---------------------------------------------------------------------

    def on_telemetry(self, telemetry: Telemetry, now: datetime) -> RuleOutput:
        output = self._confirm_due(now)
        if telemetry.metric is not Metric.ACCEL or not telemetry.samples:
            return output
        key = (telemetry.home, telemetry.device)
        pendant = self.pendants.get(key)
        if pendant is None:
            pendant = self.pendants[key] = _Pendant(FallStream(self.scorer, self.config), now)
        pendant.last_seen, pendant.last_seq = now, telemetry.seq
        samples = np.asarray(telemetry.samples, dtype=np.float32)
        assert telemetry.rate_hz is not None  # the contract guarantees it for accel
        candidates = pendant.stream.push(telemetry.ts.timestamp(), telemetry.rate_hz, samples)
        output.extend(self._alarms(key, pendant, candidates, now))
        if pendant.stream.awaiting_aftermath:
            self._awaiting[key] = now + self.cut_after
        else:
            self._awaiting.pop(key, None)
        self._keep_provisional(key, pendant, now)
        moved = self._moved(pendant, samples, telemetry.rate_hz)
        suspicion = self.suspected.get(telemetry.home)
        if suspicion and moved and self._after_aftermath(telemetry.ts, suspicion):
            output.extend(self._resolve(suspicion, now, Severity.MEDIUM, telemetry.device))
        return output

    def on_event(self, event: Event, now: datetime) -> RuleOutput:
        output = self._confirm_due(now)
        if event.type is EventType.FALL_SUSPECTED:
            evidence = Evidence(device=event.device, seq=event.seq, type=event.type.value)
            output.extend(self._suspect(event.home, event.ts, evidence, now, None))
            return output
        suspicion = self.suspected.get(event.home)
        if suspicion is None:
            return output
        if event.type is EventType.CANCEL_BUTTON:
            output.extend(self._resolve(suspicion, now, Severity.LOW, event.device))
        elif event.type is EventType.BED_EMPTY and suspicion.in_bed:
            # Out of bed after all (a fall from it, or getting up): the usual window from now.
            suspicion.deadline = min(suspicion.deadline, now + self.confirm)
        elif event.type in MOVEMENT_EVENTS and self._after_aftermath(event.ts, suspicion):
            output.extend(self._resolve(suspicion, now, Severity.MEDIUM, event.device))
        return output

    def on_tick(self, now: datetime) -> RuleOutput:
        output = self._cut([k for k, at in self._awaiting.items() if at <= now], now)
        for key in [k for k, p in self.pendants.items() if now - p.last_seen > self.idle]:
            del self.pendants[key]  # bounded memory: a silent pendant starts afresh
        output.extend(self._confirm_due(now))
        return output

    # -- decisions ----------------------------------------------------------------------

    def _cut(self, keys: list[tuple[str, str]], now: datetime) -> RuleOutput:
        """These pendants' impacts decided on what their streams saw (``FallStream.cut``)."""
        output = RuleOutput()
        for key in keys:
            del self._awaiting[key]
            pendant = self.pendants[key]
            output.extend(self._alarms(key, pendant, pendant.stream.cut(), now))
            self._keep_provisional(key, pendant, now)
        return output

    def _keep_provisional(self, key: tuple[str, str], pendant: _Pendant, now: datetime) -> None:
        """Keep, for a pendant whose impact waits, the suspicion a cut now would raise, and
        ask for a save when one appears. A copy of the stream is decided per batch only
        while an impact waits, and saved only when it would raise, so an everyday impact
        that a cut would not raise costs no save. Its withdrawal waits for the next save: a
        kill before it raises a suspicion that the confirmation window then judges (the
        safe side), for half the saves."""
        would = None
        if key in self._awaiting and key[0] not in self.suspected:
            decided = pendant.stream.what_a_cut_would_decide()
            would = next((c for c in decided if c.alarm), None)
        if would is None:
            self.provisional.pop(key, None)
        elif key not in self.provisional:
            impact_at = datetime.fromtimestamp(would.impact_at, tz=UTC)
            self.provisional[key] = _Provisional(impact_at, would.score, pendant.last_seq, now)
            self.urgent_saves += 1

    def _alarms(
        self, key: tuple[str, str], pendant: _Pendant, candidates: list[Candidate], now: datetime
    ) -> RuleOutput:
        """The suspicions a pendant's decided candidates raise."""
        output = RuleOutput()
        home, device = key
        for candidate in candidates:
            if candidate.held_s:
                # Where the pendant lay when it fell silent is not known (mid-fall, maybe):
                # whether it moved since is judged from the batches after the cut alone.
                pendant.last_vector = None
                log.warning(
                    "fall_aftermath_missing",
                    home=home,
                    device=device,
                    held_s=round(candidate.held_s, 2),
                    alarm=candidate.alarm,
                )
            if candidate.alarm:
                impact_at = datetime.fromtimestamp(candidate.impact_at, tz=UTC)
                evidence = Evidence(device=device, seq=pendant.last_seq, type="accel_impact")
                output.extend(self._suspect(home, impact_at, evidence, now, candidate.score))
        return output

    def _moved(self, pendant: _Pendant, samples: np.ndarray, rate_hz: float) -> bool:
        """Activity (magnitude varies) or a change of posture since the previous batch."""
        half = max(1, int(rate_hz / 2))
        start = pendant.last_vector if pendant.last_vector is not None else samples[:half].mean(0)
        end = samples[-half:].mean(axis=0)
        pendant.last_vector = end
        if float(np.linalg.norm(samples, axis=1).std()) >= self.movement_g:
            return True
        cosine = float(start @ end) / max(float(np.linalg.norm(start) * np.linalg.norm(end)), 1e-9)
        return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))) >= self.posture_deg

    def _after_aftermath(self, ts: datetime, suspicion: SuspectedFall) -> bool:
        """Movement counts only once the fall itself (impact and aftermath) is over."""
        return ts >= suspicion.impact_at + timedelta(seconds=self.config.post_s)

    def _suspect(
        self, home: str, impact_at: datetime, evidence: Evidence, now: datetime, score: float | None
    ) -> RuleOutput:
        suspicion = self.suspected.get(home)
        if suspicion is not None:
            suspicion.evidence.append(evidence)  # same fall seen twice (pendant and device)
            return RuleOutput()
        # A device-reported fall is over when reported; our own detection waited for the aftermath.
        aftermath = timedelta(seconds=self.config.post_s) if score is not None else timedelta()
        over = max(now, impact_at + aftermath)
        suspicion = SuspectedFall(home, impact_at, now, over + self.confirm, [evidence], score)
        self.suspected[home] = suspicion
        self.urgent_saves += 1
        log.info("fall_suspected", home=home, device=evidence.device, score=score)
        return RuleOutput(points=[self._point(suspicion, now, "suspected", evidence.device)])

    def _confirm_due(self, now: datetime) -> RuleOutput:
        output = RuleOutput()
        for suspicion in [s for s in self.suspected.values() if s.deadline <= now]:
            if not self._in_bed(suspicion.home):
                output.extend(self._resolve(suspicion, now, Severity.CRITICAL, None))
            elif suspicion.in_bed:
                output.extend(self._resolve(suspicion, now, Severity.MEDIUM, None, "in_bed"))
            else:
                suspicion.in_bed = True
                suspicion.deadline = now + self.bed_grace
                log.info("fall_in_bed_waiting", home=suspicion.home)
        return output

    def _in_bed(self, home: str) -> bool:
        """The bed mat says occupied and nothing since has been seen outside the bedroom."""
        state = self.beds.homes.get(home) if self.beds is not None else None
        return state is not None and state.bed and state.last_place in (Place.BED, Place.BEDROOM)

    def _resolve(
        self,
        suspicion: SuspectedFall,
        now: datetime,
        severity: Severity,
        by: str | None,
        outcome: str | None = None,
    ) -> RuleOutput:
        del self.suspected[suspicion.home]
        outcome = outcome or _OUTCOMES[severity]
        alert = Alert(
            # One suspicion, one id: raised again after a crash before the checkpoint, it
            # is the same alert to alerting, not a second call-out.
            alert_id=stable_alert_id(
                suspicion.suspected_at,
                suspicion.home,
                AlertKind.FALL,
                suspicion.impact_at.isoformat(),
            ),
            home=suspicion.home,
            kind=AlertKind.FALL,
            severity=severity,
            raised_at=now,
            evidence=suspicion.evidence[:100],
            explanation=_explanation(outcome, suspicion, by, self.confirm),
        )
        log.info(
            "fall_resolved",
            home=suspicion.home,
            alert_id=alert.alert_id,
            outcome=outcome,
            device=by,
            devices=[item.device for item in suspicion.evidence],
        )
        return RuleOutput(alerts=[alert], points=[self._point(suspicion, now, outcome, by)])

    # -- checkpoint -----------------------------------------------------------------------

    def next_deadline(self) -> datetime | None:
        """When the earliest confirmation window closes, or a pendant waiting for an impact's
        aftermath counts as cut off: the service wakes then, not at its next 10 s tick, so a
        confirmed fall is on the wall seconds after its 15 s, not 25."""
        deadlines = [s.deadline for s in self.suspected.values()]
        return min([*deadlines, *self._awaiting.values()], default=None)

    @property
    def short_timers_open(self) -> bool:
        """A confirmation window is running (shorter than the checkpoint interval)."""
        return bool(self.suspected)

    def retain(self, keep: Callable[[str], bool]) -> None:
        """Forget the homes ``keep`` refuses (a single instance's state split by shard)."""
        self.suspected = {home: s for home, s in self.suspected.items() if keep(home)}
        self.provisional = {key: p for key, p in self.provisional.items() if keep(key[0])}

    def snapshot(self) -> bytes:
        suspected = [
            {
                "home": s.home,
                "impact_at": s.impact_at.isoformat(),
                "suspected_at": s.suspected_at.isoformat(),
                "deadline": s.deadline.isoformat(),
                "evidence": [e.model_dump(mode="json") for e in s.evidence],
                "score": s.score,
                "in_bed": s.in_bed,
            }
            for s in self.suspected.values()
        ]
        provisional = [
            [home, device, p.impact_at.isoformat(), p.score, p.seq, p.at.isoformat()]
            for (home, device), p in self.provisional.items()
        ]
        return json.dumps({"suspected": suspected, "provisional": provisional}).encode()

    def restore(self, data: bytes) -> None:
        saved = json.loads(data)
        if isinstance(saved, list):  # checkpoints before provisional suspicions
            saved = {"suspected": saved, "provisional": []}
        self.suspected = {
            item["home"]: SuspectedFall(
                home=item["home"],
                impact_at=datetime.fromisoformat(item["impact_at"]),
                suspected_at=datetime.fromisoformat(item["suspected_at"]),
                deadline=datetime.fromisoformat(item["deadline"]),
                evidence=[Evidence.model_validate(e) for e in item["evidence"]],
                score=item["score"],
                in_bed=item.get("in_bed", False),  # absent in checkpoints before it
            )
            for item in saved["suspected"]
        }
        self.provisional = {}
        for home, device, impact_at, score, seq, at in saved["provisional"]:
            held = _Provisional(
                datetime.fromisoformat(impact_at), score, seq, datetime.fromisoformat(at)
            )
            self._raise_provisional(home, device, held)

    def _raise_provisional(self, home: str, device: str, held: _Provisional) -> None:
        """The last detector was killed while this pendant's impact waited for its
        aftermath, and a cut then would have raised it: a suspicion as ``_suspect`` opens
        it then. Its deadline has most likely passed, so the first tick decides it (critical
        unless the bed says otherwise); movement queued while no detector ran comes after."""
        log.warning("fall_restored_mid_aftermath", home=home, device=device, score=held.score)
        evidence = Evidence(device=device, seq=held.seq, type="accel_impact")
        self._suspect(home, held.impact_at, evidence, held.at, held.score)

    def _point(
        self, suspicion: SuspectedFall, now: datetime, stage: str, device: str | None
    ) -> SeriesPoint:
        fields: dict[str, float | int | bool | str] = {"stage": stage}
        if suspicion.score is not None:
            fields["score"] = suspicion.score
        tags = {"home": suspicion.home, "device": device or suspicion.evidence[0].device}
        return SeriesPoint(measurement="fall", tags=tags, fields=fields, ts=now)


def _explanation(
    outcome: str, suspicion: SuspectedFall, by: str | None, confirm: timedelta
) -> LocalizedText:
    source = suspicion.evidence[0].device
    seconds = int(confirm.total_seconds())
    if outcome == "confirmed":
        return LocalizedText(
            zh_cn=f"{source} 检测到跌倒，之后 {seconds} 秒内家中无任何活动",
            en=f"Fall detected by {source}; no movement in the home for {seconds} s since",
        )
    if outcome == "in_bed":
        return LocalizedText(
            zh_cn=f"{source} 检测到疑似跌倒，但床垫传感器显示老人仍在床上（可能是翻身）："
            "请联系老人确认",
            en=f"Possible fall detected by {source}, but the bed mat says the resident is "
            "still in bed (turning over?): check in",
        )
    if outcome == "movement":
        return LocalizedText(
            zh_cn=f"{source} 检测到疑似跌倒，之后 {by} 检测到活动：请联系老人确认",
            en=f"Possible fall detected by {source}; movement seen on {by} since: check in",
        )
    return LocalizedText(
        zh_cn=f"{source} 检测到疑似跌倒，老人已按 {by} 取消",
        en=f"Possible fall detected by {source}; cancelled by the resident on {by}",
    )
