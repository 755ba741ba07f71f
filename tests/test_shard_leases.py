"""Shard leases in the database (SQLite and PostgreSQL): acquire, renew, balance, takeover
of a dead instance's shards, release on a clean stop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import make_url

from eldercare.clock import SimulatedClock
from eldercare.db import create_engine, migrate
from eldercare.shard_leases import ShardLeases, serve_shards
from tests.tcp_proxy import TcpProxy

TTL = timedelta(seconds=15)


class Workers:
    """Shard workers that run until cancelled, recording which run."""

    def __init__(self) -> None:
        self.running: set[int] = set()
        self.stopped: list[int] = []

    async def work(self, shard: int) -> None:
        self.running.add(shard)
        try:
            await asyncio.Event().wait()
        finally:
            self.running.discard(shard)
            self.stopped.append(shard)


async def until(condition) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


def instance(engine, clock, owner: str, shards: int = 16) -> ShardLeases:  # type: ignore[no-untyped-def]
    return ShardLeases(engine, clock, scope="detector", owner=owner, shard_count=shards, ttl=TTL)


async def test_one_instance_owns_every_shard_and_keeps_them_on_renewal(engine) -> None:
    clock = SimulatedClock()
    alone = instance(engine, clock, "a")
    first = await alone.round()
    assert first.acquired == list(range(16)) and not first.lost and not first.surplus
    clock.set(clock.now() + TTL * 0.9)  # renewed before lapsing: nobody else could take them
    again = await alone.round()
    assert (again.acquired, again.lost, again.surplus) == ([], [], [])
    assert alone.owned == set(range(16))


async def test_a_second_instance_gets_half_once_the_first_hands_its_surplus_back(engine) -> None:
    clock = SimulatedClock()
    a, b = instance(engine, clock, "a"), instance(engine, clock, "b")
    await a.round()
    joined = await b.round()  # all taken: b is live but owns nothing yet
    assert joined.acquired == []
    rebalance = await a.round()  # a sees two live instances: its share is ceil(16 / 2)
    assert rebalance.surplus == list(range(8, 16))
    await a.release(rebalance.surplus)
    assert (await b.round()).acquired == list(range(8, 16))
    assert a.owned.isdisjoint(b.owned) and len(a.owned) == len(b.owned) == 8


async def test_at_most_a_fair_share_while_the_others_live(engine) -> None:
    """Three instances, 16 shards: nobody holds more than ceil(16 / 3) = 6."""
    clock = SimulatedClock()
    members = [instance(engine, clock, name) for name in "abc"]
    for _ in range(3):
        for member in members:
            change = await member.round()
            await member.release(change.surplus)
    assert max(len(m.owned) for m in members) == 6
    assert set().union(*(m.owned for m in members)) == set(range(16))


async def test_a_dead_instance_s_shards_are_taken_once_its_leases_lapse(engine) -> None:
    clock = SimulatedClock()
    a, b = instance(engine, clock, "a", shards=4), instance(engine, clock, "b", shards=4)
    await a.round()
    await b.round()
    await a.release((await a.round()).surplus)
    await b.round()
    assert len(a.owned) == len(b.owned) == 2
    # a dies (no more renewals); before its leases lapse b may not take them
    clock.set(clock.now() + TTL * 0.5)
    assert (await b.round()).acquired == []
    clock.set(clock.now() + TTL * 0.6)
    assert (await b.round()).acquired == sorted(a.owned)
    assert b.owned == {0, 1, 2, 3}
    # a comes back from a long pause: its shards are gone, and it learns so at once
    assert (await a.round()).lost == [0, 1]


async def test_two_instances_racing_for_a_free_shard_never_both_win(engine) -> None:
    clock = SimulatedClock()
    a, b = instance(engine, clock, "a", shards=1), instance(engine, clock, "b", shards=1)
    rounds = await asyncio.gather(a.round(), b.round())
    assert sorted(len(r.acquired) for r in rounds) == [0, 1]


async def test_a_clean_stop_hands_every_shard_over_without_waiting_for_the_lease(
    engine,
) -> None:
    clock = SimulatedClock()
    a, b = instance(engine, clock, "a", shards=4), instance(engine, clock, "b", shards=4)
    workers = Workers()
    serving = asyncio.create_task(serve_shards(a, workers.work))
    await until(lambda: workers.running == {0, 1, 2, 3})
    serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)
    assert sorted(workers.stopped) == [0, 1, 2, 3]
    assert (await b.round()).acquired == [0, 1, 2, 3]  # at once: no lapse waited for


async def test_a_stalled_instance_stops_the_shards_taken_from_it_at_its_next_renewal(
    engine,
) -> None:
    clock = SimulatedClock()
    a, b = instance(engine, clock, "a", shards=2), instance(engine, clock, "b", shards=2)
    workers = Workers()
    serving = asyncio.create_task(serve_shards(a, workers.work))
    try:
        await until(lambda: workers.running == {0, 1})
        clock.set(clock.now() + TTL * 1.1)  # "a" stalled past its leases (no renewal ran)
        assert (await b.round()).acquired == [0, 1]
        await clock.advance(0)  # "a" wakes up: its renewal finds the shards gone
        await until(lambda: not workers.running)
        assert not serving.done() and a.owned == set()
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)


async def test_a_database_outage_stops_the_shards_once_the_leases_would_have_lapsed(
    postgres_url: str,
) -> None:
    """Past the lease's life another instance may own the shards: stop them, take them back
    when the database answers again."""
    async with TcpProxy(make_url(postgres_url).port or 5432) as proxy:
        engine = create_engine(
            make_url(postgres_url).set(port=proxy.port).render_as_string(hide_password=False)
        )
        await migrate(engine)
        clock = SimulatedClock()
        leases = instance(engine, clock, "a", shards=2)
        workers = Workers()

        async def wait_until(condition) -> None:  # type: ignore[no-untyped-def]
            async with asyncio.timeout(10):
                while not condition():
                    await clock.advance(leases.renew_every.total_seconds())
                    await asyncio.sleep(0.05)

        serving = asyncio.create_task(serve_shards(leases, workers.work))
        try:
            await wait_until(lambda: workers.running == {0, 1})
            proxy.cut()
            outage = clock.now()
            await wait_until(lambda: not workers.running)
            assert clock.now() - outage >= TTL  # kept working while the leases held
            assert not serving.done()
            await proxy.restore()
            await wait_until(lambda: workers.running == {0, 1})
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)
            await engine.dispose()
