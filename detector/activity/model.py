"""The learned part: how long quiet normally lasts in each context, per home.

A context is (two-hour block of the local day, place of the last sign of life). For each
context the model keeps a slowly decaying *peak* quiet duration and a decaying count of quiet
periods, so the alarm threshold is "longer than this home has been quiet here before, with a
margin". Peaks of neighbouring blocks spill over (routines shift by an hour), and a context
seen too rarely borrows from the busiest context of the same block. Until the home has had
enough quiet periods in a context, the population prior for it (``prior.py``) dominates.

Wake-up times are a small ring buffer of recent values; bathroom stays a decaying peak.
All of it is one bytearray per home, 0.2–1.2 KB by the places learned (DESIGN §8: < 2 KiB).
"""

from __future__ import annotations

import base64
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detector.activity.feedback import (
    HOURLY,
    QUIET,
    Widening,
    bath_slot,
    slot,
    wake_slot,
    widened,
)
from detector.activity.prior import BATH_INSTANT, QuietPrior, shipped_prior
from detector.activity.sensors import PLACE_COUNT, Place

BLOCKS = 12
BLOCK_H = 24 // BLOCKS
#: Quiet shorter than this is ordinary life and not worth remembering.
MIN_QUIET_H = 0.25
RING = 14
#: The per-context statistics, in the order of ``ActivityModel.quiet`` and the checkpoint.
QUIET_STATS = ("peak", "count", "total", "squares")
#: After them, the hour-of-day view: 24 hours × places is two more 12 × places rows.
HOURLY_ROWS = 24 // BLOCKS
QUIET_SHAPE = (len(QUIET_STATS) + HOURLY_ROWS, BLOCKS, PLACE_COUNT)
QUIET_SIZE = QUIET_SHAPE[0] * BLOCKS * PLACE_COUNT
EMPTY = 255  # ring-buffer slot not yet filled
#: Rows of ``ActivityModel.wake``: weekday and weekend wake-ups, then bedtimes.
BEDTIMES = 2
WAKE_ROWS = BEDTIMES + 1
#: ``ActivityModel.buffer``: the uint8 wake-up rings, the two float16 bathroom peaks, then
#: a float16 column of the ``quiet`` statistics (rows × blocks) for each place learned.
WAKE_BYTES = WAKE_ROWS * RING
SMALL_BYTES = WAKE_BYTES + 2 * 2
COLUMN_SHAPE = QUIET_SHAPE[:2]
COLUMN_BYTES = QUIET_SHAPE[0] * BLOCKS * 2
#: ``ActivityModel.places`` bitmask -> the places with a column, in order.
_PLACES = [
    np.array([p for p in range(PLACE_COUNT) if mask >> p & 1], dtype=np.intp)
    for mask in range(1 << PLACE_COUNT)
]
#: (model, its ``quiet`` copy): the last one read (``ActivityModel.quiet``).
_NONE_READ: tuple[object, np.ndarray | None] = (None, None)
_LAST_READ = _NONE_READ
#: Every place but out of home (``unusual_now(anywhere=True)``).
_AT_HOME = [p for p in range(PLACE_COUNT) if p != Place.OUT]
#: Bedtimes are kept in 10-minute units after noon, so that 23:50 < 00:30.
NOON = 12.0


@dataclass(frozen=True)
class ModelSettings:
    """Knobs of the general method (the same for every home; not fitted to one recording)."""

    learn_days: float = 7.0
    margin_factor: float = 1.3
    margin_h: float = 0.75
    neighbour_weight: float = 0.85
    #: A context with fewer decayed quiet periods than this borrows from its block.
    min_evidence: float = 3.0
    borrow_weight: float = 0.8
    floor_h: float = 1.0
    cap_h: float = 12.0
    daily_decay: float = 0.99
    wake_tolerance_h: float = 0.75
    default_wake_h: float = 10.0
    bath_factor: float = 1.3
    bath_margin_min: float = 20.0
    default_bath_min: float = 90.0
    min_bath_min: float = 45.0
    night_start_h: float = 22.0
    night_end_h: float = 6.0
    #: Quiet in bed or the bedroom from this hour until 08:00 is sleep.
    bedtime_from_h: float = 19.0
    #: Asleep, quiet may also last its learned mean plus this many standard deviations.
    #: Spells between toilet visits that come at random are as spread as they are long, so
    #: a night without a visit is within reach; a sleeper whose turns a bedroom sensor sees
    #: every half hour has regular spells and keeps a short limit (a collapse is noticed).
    sleep_tail_factor: float = 5.0
    #: The population's limits per context (``prior.py``), and how many of a home's own
    #: quiet periods in a context (with its neighbouring blocks) they are worth (shrinkage).
    prior: QuietPrior = field(default_factory=shipped_prior, compare=False, repr=False)
    prior_quiets: float = 4.0
    #: A context no development home knew: asleep or out, quiet all night; awake, this.
    unknown_awake_h: float = 3.5
    #: The second view (see ``ActivityModel.unusual_now``): quiet longer than any seen after
    #: this context (× ``tight_factor`` + ``tight_margin_h``) *and* longer than any quiet seen
    #: ongoing around this hour of the day there (× ``hourly_factor`` + ``hourly_margin_h``).
    #: Hour-of-day detail needs more days than the two-hour contexts: twice the learning
    #: (after an instant, every place's hours together: the learning days, ``unusual_now``).
    tight_factor: float = 1.0
    tight_margin_h: float = 0.25
    hourly_factor: float = 1.3
    hourly_margin_h: float = 1.0
    hourly_after_days: float = 14.0
    #: Sleep without a bed or bedroom sensor (see ``ActivityModel.settling``): quiet that
    #: starts after the home's earliest usual bedtime, less this tolerance, is the night.
    #: Until three bedtimes are known, the night starts at ``default_bedtime_h``.
    bedtime_tolerance_h: float = 0.5
    default_bedtime_h: float = 21.0
    #: A bedtime is the start of a quiet of at least this long, begun in 19:00–03:00 and
    #: going on at midnight (``learn_bedtime``).
    sleep_spell_h: float = 2.0


def is_night(hour: float, settings: ModelSettings) -> bool:
    return hour >= settings.night_start_h or hour < settings.night_end_h


def is_asleep(hour: float, place: Place, settings: ModelSettings) -> bool:
    return place in (Place.BEDROOM, Place.BED) and (hour >= settings.bedtime_from_h or hour < 8)


def is_resting(hour: float, place: Place, settings: ModelSettings) -> bool:
    """Asleep, or sitting on a seat mat (at any hour). Either way the quiet is a spell
    between interruptions that come at random (a toilet visit, the kettle): an evening of
    television without one is a sitting of the whole evening, as a night without one is a
    night slept through, so both are judged with the spread of their spells, not the peak
    of a few weeks' (seat-mat homes raised "no activity since 18:10 in the chair" at 21:16)."""
    return place is Place.CHAIR or is_asleep(hour, place, settings)


class ActivityModel:
    """Per-home learned numbers; ``learn_*`` update them, ``*_threshold`` read them."""

    __slots__ = ("buffer", "days", "last_day", "places", "widening")

    def __init__(self) -> None:
        # One bytearray for the wake-up rings (uint8), the bathroom peaks and a column of
        # the statistics for each place this home has learned a quiet after (float16,
        # ``places``): ``wake``, ``bath``, ``stats`` and ``quiet`` are numpy views made on
        # demand. A bytearray costs ~57 bytes of header where an ndarray costs ~110, and a
        # home keeps only the places it uses (4–6 of 8 in the development homes; a home new
        # to the detector, one or two): 100 k homes are kept in memory (DESIGN §8).
        self.buffer = bytearray(bytes([EMPTY]) * WAKE_BYTES + bytes(SMALL_BYTES - WAKE_BYTES))
        self.places = 0  # bit per ``Place`` with a column in ``buffer``, in place order
        self.days = 0.0
        self.last_day = -1  # local date ordinal of the last daily decay
        self.widening: Widening | None = None  # staff verdicts (feedback.py); rarely any

    def _column(self, place: Place) -> np.ndarray:
        """The place's statistics (``QUIET_STATS`` then the hour-of-day view, × blocks),
        writable; a column of zeros is made for a place not learned before."""
        index = (self.places & ((1 << place) - 1)).bit_count()
        offset = SMALL_BYTES + index * COLUMN_BYTES
        if not self.places >> place & 1:
            self.buffer[offset:offset] = bytes(COLUMN_BYTES)
            self.places |= 1 << place
        self._written()
        view = np.frombuffer(self.buffer, dtype=np.float16, count=COLUMN_BYTES // 2, offset=offset)
        return view.reshape(COLUMN_SHAPE)

    @property
    def stats(self) -> np.ndarray:
        """Every float16 number learned: ``bath``, then the places' columns (writable)."""
        self._written()
        return np.frombuffer(self.buffer, dtype=np.float16, offset=WAKE_BYTES)

    @property
    def wake(self) -> np.ndarray:
        """Wake-ups (weekday, weekend) in 10-minute units after 00:00, bedtimes after noon."""
        return np.frombuffer(self.buffer, dtype=np.uint8, count=WAKE_BYTES).reshape(WAKE_ROWS, RING)

    @property
    def quiet(self) -> np.ndarray:
        """The per-context statistics (``QUIET_STATS``) then the hour-of-day view, for every
        place (zeros where none was learned): a read-only copy, ``_column`` writes. The
        thresholds read it several times a message, so the last model's copy is kept until
        that model is written (``_written``)."""
        global _LAST_READ
        model, quiet = _LAST_READ
        if model is not self:
            quiet = self._dense()
            _LAST_READ = (self, quiet)
        return quiet

    def _written(self) -> None:
        """Forget the copy ``quiet`` keeps of this model: a writable view was made."""
        global _LAST_READ
        if _LAST_READ[0] is self:
            _LAST_READ = _NONE_READ

    def _dense(self) -> np.ndarray:
        quiet = np.zeros(QUIET_SHAPE, dtype=np.float16)
        places = _PLACES[self.places]
        if places.size:
            columns = np.frombuffer(self.buffer, dtype=np.float16, offset=SMALL_BYTES)
            quiet[:, :, places] = columns.reshape(places.size, *COLUMN_SHAPE).transpose(1, 2, 0)
        quiet.flags.writeable = False
        return quiet

    @property
    def bath(self) -> np.ndarray:
        """Decayed peak stay in the bathroom (minutes): day, night."""
        return self.stats[:2]

    @property
    def peak(self) -> np.ndarray:
        """Decaying longest quiet (hours) per context."""
        return self.quiet[0]

    @property
    def count(self) -> np.ndarray:
        """Decaying number of quiet periods per context."""
        return self.quiet[1]

    @property
    def total(self) -> np.ndarray:
        """Decaying sum of quiet hours per context."""
        return self.quiet[2]

    @property
    def squares(self) -> np.ndarray:
        """Decaying sum of squared quiet hours per context (for the spread)."""
        return self.quiet[3]

    @property
    def hourly(self) -> np.ndarray:
        """Decaying longest quiet seen *ongoing* during each local hour (24 × places), by
        the place of the last sign of life, as it had lasted by the end of that hour (or
        its own end): hour 14 holding 1 h is "by 15:00 never quiet there for more than 1 h"."""
        return self.quiet[len(QUIET_STATS) :].reshape(24, PLACE_COUNT)

    # -- learning -------------------------------------------------------------------------

    def new_day(self, ordinal: int, settings: ModelSettings) -> None:
        """Age what was learned, once per local day, so a changed routine is followed."""
        if self.last_day < 0:
            self.last_day = ordinal
            return
        elapsed = ordinal - self.last_day
        if elapsed <= 0:
            return
        self.last_day = ordinal
        self.days += elapsed
        factor = settings.daily_decay ** min(elapsed, 365)
        stats = self.stats
        stats[:] = (stats.astype(np.float32) * factor).astype(np.float16)

    def learn_quiet(
        self, hour: float, place: Place, quiet_h: float, *, visit_ended: bool = False
    ) -> None:
        """A quiet after a sign of life at ``hour`` in ``place`` ended after ``quiet_h``;
        ``visit_ended``: with it ended a stay in the bathroom (someone seen in there).

        Short quiet is ordinary life and not remembered, but for one thing: a bathroom stay
        that ended in another room within minutes counts as a quiet period seen there. Most
        visits are that short, so without it a home's bathroom never gathered evidence and
        the population's limit for it (``quiet_threshold_h``) held for ever, well past the
        time a collapse by the toilet should be noticed. A bathroom known only by switches
        is left as it was: a flush says nothing about when the resident left."""
        block = int(hour // BLOCK_H) % BLOCKS
        if quiet_h < MIN_QUIET_H and not (visit_ended and place is Place.BATHROOM):
            return
        column = self._column(place)
        peak, count, total, squares = column[: len(QUIET_STATS)]
        if quiet_h < MIN_QUIET_H:
            count[block] = float(count[block]) + 1.0
            return
        peak[block] = max(float(peak[block]), min(quiet_h, 48.0))
        count[block] = float(count[block]) + 1.0
        total[block] = float(total[block]) + min(quiet_h, 24.0)
        squares[block] = float(squares[block]) + min(quiet_h, 24.0) ** 2
        # The hours it lasted through: how long it had been quiet by the end of each.
        hourly = column[len(QUIET_STATS) :].reshape(24)
        start = int(hour)
        for step in range(min(int(hour + quiet_h) - start + 1, 24)):
            ongoing = min(start + step + 1 - hour, quiet_h)
            slot = (start + step) % 24
            hourly[slot] = max(float(hourly[slot]), ongoing)

    def learn_wake(self, weekend: bool, hour: float) -> None:
        _push(self.wake[int(weekend)], min(int(hour * 6), 254))

    def learn_bedtime(self, hour: float, quiet_h: float, settings: ModelSettings) -> None:
        """A long quiet begun in the evening or night and still going on at midnight is a
        bedtime (or a night-time spell after a toilet visit: the earliest ones are what
        ``settling`` reads). One that ended before midnight was an evening — two hours of
        television with nothing touched — and not a bedtime: counted as one, it made the
        contacts-only homes' night begin before 19:00, so their evening was judged as a
        night (a collapse after dinner found the next morning) and learned as the
        bedroom's, which left the evening's own context without its long quiets (round 12)."""
        after_noon = (hour - NOON) % 24
        past_midnight = after_noon + quiet_h >= 24 - NOON
        if quiet_h >= settings.sleep_spell_h and 7 <= after_noon < 15 and past_midnight:
            _push(self.wake[BEDTIMES], int(after_noon * 6))

    def settling(self, hour: float, settings: ModelSettings) -> bool:
        """Quiet starting at ``hour`` is the night: from this home's earliest usual bedtime
        until its earliest usual wake-up, but at least until 05:00 (each the second earliest
        of the recent ones, less a tolerance: one odd night or morning does not move it).
        Homes whose bedroom is not watched cannot see sleep, and without this their evening
        quiet was judged by daytime expectations, and a flush at 05:30 on the way back to
        bed by the bathroom's (a morning not begun is ``no_wake_up``'s business)."""
        bedtime = _second_earliest(self.wake[BEDTIMES])
        if bedtime is None:
            start = (settings.default_bedtime_h - NOON) % 24
        else:
            start = bedtime - settings.bedtime_tolerance_h
        wake = _second_earliest(self.wake[:BEDTIMES])
        end = 17.0 if wake is None else max(17.0, wake + 24 - NOON - settings.wake_tolerance_h)
        return start <= (hour - NOON) % 24 < end

    def learn_bath(self, night: bool, minutes: float) -> None:
        self.bath[int(night)] = max(float(self.bath[int(night)]), min(minutes, 720.0))

    # -- thresholds -----------------------------------------------------------------------

    def _learned_h(self, block: int, place: Place, settings: ModelSettings) -> tuple[float, float]:
        """Longest quiet learned for the context (neighbouring blocks at a discount); a
        context seen fewer than ``min_evidence`` times borrows from what is known: an outing
        at a new hour is like the outings at other hours, quiet at home like this block's
        quietest place. Also returns the evidence (decayed quiet periods, with neighbours)."""
        peak = self.peak.astype(np.float32)
        count = self.count.astype(np.float32)
        before, after = (block - 1) % BLOCKS, (block + 1) % BLOCKS
        learned = max(
            peak[block, place],
            settings.neighbour_weight * peak[before, place],
            settings.neighbour_weight * peak[after, place],
        )
        evidence = count[block, place] + count[before, place] + count[after, place]
        if evidence < settings.min_evidence:
            if place is Place.OUT:
                pool = peak[:, Place.OUT]
            else:
                pool = peak[block, [p for p in range(PLACE_COUNT) if p != Place.OUT]]
            learned = max(learned, settings.borrow_weight * float(pool.max()))
        return float(learned), float(evidence)

    def own_limit_h(self, hour: float, place: Place, settings: ModelSettings) -> float | None:
        """This home's own limit for quiet after ``hour`` in ``place``, from what it learned:
        longer than its (decayed) peak here with a margin, and asleep also its mean +
        ``sleep_tail_factor`` standard deviations. None before anything is learned here."""
        return self._own_limit(hour, place, settings)[0]

    def _own_limit(
        self, hour: float, place: Place, settings: ModelSettings, spell: bool = False
    ) -> tuple[float | None, float]:
        """(the home's own limit or None, the evidence: decayed quiet periods seen here).
        ``spell``: judge the quiet as a spell between interruptions (``quiet_threshold_h``)."""
        block = int(hour // BLOCK_H) % BLOCKS
        before, after = (block - 1) % BLOCKS, (block + 1) % BLOCKS
        learned, evidence = self._learned_h(block, place, settings)
        if learned <= 0:
            # Seen often enough and never quiet for long (bathroom visits): the floor.
            return (settings.floor_h if evidence >= settings.min_evidence else None), evidence
        threshold = learned * settings.margin_factor + settings.margin_h
        if (spell or is_resting(hour, place, settings)) and evidence >= settings.min_evidence:
            # The peak of a few nights (or evenings in the armchair) misses the one without
            # a toilet visit; mean and spread see it coming.
            blocks = [before, block, after]
            mean = float(self.total[blocks, place].astype(np.float32).sum()) / evidence
            square = float(self.squares[blocks, place].astype(np.float32).sum()) / evidence
            spread = max(square - mean * mean, 0.0) ** 0.5
            threshold = max(
                threshold, mean + settings.sleep_tail_factor * spread + settings.margin_h
            )
        return float(threshold), evidence

    def quiet_threshold_h(
        self,
        hour: float,
        place: Place,
        settings: ModelSettings,
        *,
        instant: bool = False,
        spell: bool = False,
    ) -> float:
        """How long quiet may last after a sign of life at ``hour`` in ``place``: the home's
        own limit, but not below the population's (``prior.py``) weighted by what the prior
        is still worth against the quiet periods this home has had here,
        ``prior_quiets / (prior_quiets + evidence)``: a new home's first days are the
        population's, a context seen a few times is not a few days' peak alone, and a
        sleeper whose turns the bedroom sees every half hour soon has a limit of its own.
        ``instant``: the bathroom is known only from switches, not seen (``BATH_INSTANT``).
        ``spell``: the last sign was an instant (a cupboard, a door, a switch, a flush), not
        someone seen there: the quiet after it is the time to the next thing touched, which
        comes at random, not how long someone kept still, so like sleep it is also judged by
        the spread of such quiets (contacts-only homes raised most of the remaining false
        alarms, round 7)."""
        block = int(hour // BLOCK_H) % BLOCKS
        column = BATH_INSTANT if instant and place is Place.BATHROOM else place
        population = float(settings.prior.limit[block, column])
        if np.isnan(population):
            night = is_asleep(hour, place, settings) or place is Place.OUT
            population = settings.cap_h if night else settings.unknown_awake_h
        own, evidence = self._own_limit(hour, place, settings, spell)
        worth = settings.prior_quiets + evidence
        weight = settings.prior_quiets / worth if worth > 0 else 0.0
        # An outing lasts as long as the errand or the visit: no home's few weeks of them
        # say that a longer one is unusual, so out of home the population's limit stands.
        floor = population if place is Place.OUT else settings.floor_h
        limit = max(own or 0.0, weight * population + (1 - weight) * floor)
        limit *= widened(self.widening, slot(QUIET, block, place), self.last_day)
        return float(min(max(limit, settings.floor_h), settings.cap_h))

    def unusual_now(
        self,
        since_hour: float,
        place: Place,
        now_hour: float,
        quiet_h: float,
        settings: ModelSettings,
        *,
        anywhere: bool = False,
    ) -> float | None:
        """A second view for the hours of the day, once enough days are learned.

        The contexts above keep two-hour blocks and spill into the neighbouring ones, so a
        nap that some days runs to 16:00 also covers quiet after lunch that normally ends
        by 14:00. Here the quiet counts as unusual when it is both longer than any quiet
        after this context (without the margin) and longer than any quiet seen still going
        on around this hour there. Returns the longest quiet seen around this hour (for the
        explanation) when both hold, else None. Not resting (asleep, or on a seat mat) and
        not at night: those have their own, wider rule. Not out of home either: an outing
        lasts as long as the errand, the visit or the weather, and "longer than any outing
        seen around 17:00" was a false alarm in most homes that had one; the outing's own
        context still has its limit.

        ``anywhere``: the last sign was an instant (a cupboard, a door, a flush), after which
        the resident went on unseen, so the place it came from says little about the quiet
        that follows; it is judged against the longest quiet seen around this hour after a
        sign *anywhere* at home (out of home aside: an outing is not quiet at home). Its own
        place's hours were a false alarm wherever the resident sat on somewhere else
        ("around 15:00 at most 1 h 24 min so far", round 7); every place's together know
        the afternoon sitting. Pooling the places and three hours, that table has at least
        as many quiet periods as a two-hour context of one place, so it speaks after the
        learning days, not twice them (round 9). For the same reason the instant's context
        does not gate it either (round 10): its peak, spilled over a 6-hour window from
        neighbouring blocks, held the alarm back where every place's hours around now
        had never been quiet that long.
        """
        after = settings.learn_days if anywhere else settings.hourly_after_days
        if (
            self.days < after
            or place is Place.OUT
            or is_resting(since_hour, place, settings)
            or is_night(now_hour, settings)
        ):
            return None
        block = int(since_hour // BLOCK_H) % BLOCKS
        hour = int(now_hour) % 24
        # "Around now": hour h of the table is how long quiet had lasted by its *end*
        # (h+1:00), so the hours ending within an hour of now are h-1 and h. Reading h+1
        # too compared the quiet so far with how long quiets had lasted up to two hours
        # later, when a quiet going on then has grown by up to an hour (round 11).
        around = self.hourly[[(hour - 1) % 24, hour]]
        around = around[:, _AT_HOME] if anywhere else around[:, place]
        seen = float(around.astype(np.float32).max())
        limit = max(seen * settings.hourly_factor + settings.hourly_margin_h, settings.floor_h)
        if not anywhere:
            # Someone was seen there: also longer than any quiet after this context.
            learned, _ = self._learned_h(block, place, settings)
            limit = max(limit, learned * settings.tight_factor + settings.tight_margin_h)
        widen = widened(self.widening, slot(HOURLY, block, place), self.last_day)
        return seen if quiet_h > limit * widen else None

    def wake_deadline_h(self, weekend: bool, settings: ModelSettings) -> float:
        """Hour of the local day by which the resident is normally up, plus tolerance.

        A weekend morning judged by weekday ones (the home has had too few weekends of its
        own) may also lie in: past the latest morning seen by as much again as that morning
        was past the middle of them. Weekday mornings are the alarm clock's, the carer's, the
        week's; none of them shows the Sunday lie-in, and a home's first weeks raised
        ``no_wake_up`` on it (MIT flat 2: up at 04:10–06:00 for two weeks, then a Sunday
        in bed until 07:27 against 07:15, round 13). Once the weekend ring has its own
        mornings, their latest is the home's own lie-in and nothing is added."""
        own = self.wake[int(weekend)]
        seen = own = own[own != EMPTY]
        if own.size < RING // 2:
            # A few weekend mornings (some of them a night-time walk to the toilet through the
            # hall) say little about the latest usual wake-up: add the weekdays'.
            other = self.wake[1 - int(weekend)]
            seen = np.concatenate([own, other[other != EMPTY]])
        if seen.size < 3:
            return settings.default_wake_h
        hours = seen.astype(np.float32) / 6
        latest, middle = float(hours.max()), float(np.median(hours))
        spread = float(np.median(np.abs(hours - middle)))
        lie_in = latest - middle if weekend and own.size < RING // 2 else 0.0
        widen = widened(self.widening, wake_slot(weekend), self.last_day)
        tolerance = settings.wake_tolerance_h + spread + lie_in
        return float(min(latest + tolerance * widen, 14.0))

    def bath_threshold_min(self, night: bool, settings: ModelSettings) -> float:
        trust = min(1.0, self.days / settings.learn_days)
        learned = float(self.bath[int(night)]) * settings.bath_factor + settings.bath_margin_min
        prior = (1 - trust) * settings.default_bath_min + trust * settings.min_bath_min
        widen = widened(self.widening, bath_slot(night), self.last_day)
        return float(min(max(learned, prior) * widen, settings.cap_h * 60))

    # -- checkpoint -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            **{name: _b64(self.quiet[index]) for index, name in enumerate(QUIET_STATS)},
            "wake": _b64(self.wake),
            "bath": _b64(self.bath),
            "hourly": _b64(self.hourly),
            "days": self.days,
            "last_day": self.last_day,
            **({"widening": self.widening.to_dict()} if self.widening else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActivityModel:
        model = cls()
        quiet = np.zeros(QUIET_SHAPE, dtype=np.float16)
        for index, name in enumerate(QUIET_STATS):
            if name in data:  # checkpoints written before the spread was kept have no sums
                quiet[index] = _unb64(data[name], np.float16, quiet[index].shape)
        if "hourly" in data:  # checkpoints from before it was kept learn it afresh
            quiet[len(QUIET_STATS) :] = _unb64(
                data["hourly"], np.float16, (HOURLY_ROWS, BLOCKS, PLACE_COUNT)
            )
        for place in Place:
            if quiet[:, :, place].any():  # a place with nothing learned keeps no column
                model._column(place)[:] = quiet[:, :, place]
        wake = np.frombuffer(base64.b64decode(data["wake"]), dtype=np.uint8)
        model.wake[: wake.size // RING] = wake.reshape(-1, RING)  # older ones: no bedtimes
        model.bath[:] = _unb64(data["bath"], np.float16, model.bath.shape)
        model.days = float(data["days"])
        model.last_day = int(data["last_day"])
        model.widening = Widening.from_dict(data["widening"]) if "widening" in data else None
        return model

    @property
    def nbytes(self) -> int:
        return sys.getsizeof(self.buffer) + 16


def _second_earliest(ring: np.ndarray) -> float | None:
    """The second earliest hour in a ring of 10-minute units, None before three are seen."""
    seen = np.sort(ring[ring != EMPTY], axis=None)
    return None if seen.size < 3 else float(seen[1]) / 6


def _push(ring: np.ndarray, value: int) -> None:
    ring[:-1] = ring[1:]
    ring[-1] = value


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode()


def _unb64(text: str, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype).reshape(shape).copy()
