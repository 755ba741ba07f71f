"""A dict with a size cap, for every per-key structure whose keys come from the network.

Device and home ids arrive in payloads and topics: anyone with a home's credentials can
invent a new one per message. A plain dict keyed by them grows until the process is killed
(400 k made-up device ids took the gateway from 122 to 284 MB, never released). So such
state lives here: the least recently used key goes when the cap is reached, and the
evictions are counted so an operator sees a cap that is too small (or an attack).
"""

from __future__ import annotations

from collections import OrderedDict
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
