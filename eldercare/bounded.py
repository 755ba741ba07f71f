"""A dict with a size cap, for every per-key structure whose keys come from the network.

Device and home ids arrive in payloads and topics: anyone with a home's credentials can
invent a new one per message. A plain dict keyed by them grows until the process is killed
(400 k made-up device ids took the gateway from 122 to 284 MB, never released). So such
state lives here: the least recently used key goes when the cap is reached, and the
evictions are counted so an operator sees a cap that is too small (or an attack).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruDict(Generic[K, V]):
    """At most ``max_size`` keys; reading or writing a key makes it the most recent."""

    def __init__(self, max_size: int) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self.evictions = 0
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def __getitem__(self, key: K) -> V:
        value = self._items[key]
        self._items.move_to_end(key)
        return value

    def setdefault(self, key: K, make: Callable[[], V]) -> V:
        """The value for ``key``, made (and the oldest key evicted if full) when absent."""
        value = self.get(key)
        if value is None:
            value = self[key] = make()
        return value

    def __setitem__(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.max_size:
            self._items.popitem(last=False)
            self.evictions += 1

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def items(self) -> Iterator[tuple[K, V]]:
        return iter(list(self._items.items()))


#: How many recent sequence numbers per device are remembered to drop redeliveries.
SEQ_MEMORY = 256


class SeqWindow:
    """Remembers recent messages per device so QoS 1 redeliveries are processed once.

    Shared by a service's main session and its life-safety lane, which both receive the
    same life-safety message: whichever handles it first marks it, the other drops it.

    A message is marked by its ``seq`` *and* its event time: a redelivery repeats both, but a
    device that rebooted and counts from 1 again sends old numbers with new times, and its
    first call-button press after the reboot must not be taken for a duplicate.
    """

    def __init__(self, per_device: int = SEQ_MEMORY, max_devices: int = 200_000) -> None:
        self._per_device = per_device
        #: Least recently heard devices go first; ``evictions`` says when the cap is too small.
        self.devices: LruDict[tuple[str, str], tuple[set[Hashable], deque[Hashable]]] = LruDict(
            max_devices
        )

    def first_time(self, home: str, device: str, mark: Hashable) -> bool:
        members, order = self.devices.setdefault((home, device), lambda: (set(), deque()))
        if mark in members:
            return False
        members.add(mark)
        order.append(mark)
        if len(order) > self._per_device:
            members.discard(order.popleft())
        return True
