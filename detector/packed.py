"""A home's devices -> one non-negative integer each, packed for 100 k homes in memory.

Both the inactivity rule (``HomeState.devices``) and device health keep one integer per
device of a home. As a dict, ten devices cost ~600 bytes: the dict and its table (~270 B)
and an int object for each value (32–40 B). Here the names are one tuple (the strings are
shared, 8 bytes each) and the values ``WIDTH`` bytes each of one ``bytes`` object (one
allocation, no separate header): ~270 bytes for ten devices of the inactivity rule, ~230
for device health's (DESIGN §8: the detector's state < 2 KiB per home). A home has a few
dozen devices at most: scanning the tuple for a name costs less than hashing it, and a
write makes a new ``bytes`` of a few hundred bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import ClassVar


class PackedInts:
    """Mapping of names to integers in ``[0, 2**(8 * WIDTH))``, in insertion order; a value
    out of that range raises ``OverflowError``. Only what the rules use of a dict."""

    __slots__ = ("_data", "_names")
    WIDTH: ClassVar[int] = 8

    def __init__(self, items: Iterable[tuple[str, int]] = ()) -> None:
        self._names: tuple[str, ...] = ()
        self._data = b""
        for name, value in items:
            self[name] = value

    def _index(self, name: str) -> int:
        try:
            return self._names.index(name)
        except ValueError:
            return -1

    def _value(self, index: int) -> int:
        start = index * self.WIDTH
        return int.from_bytes(self._data[start : start + self.WIDTH], "little")

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __getitem__(self, name: str) -> int:
        index = self._index(name)
        if index < 0:
            raise KeyError(name)
        return self._value(index)

    def get(self, name: str, default: int | None = None) -> int | None:
        index = self._index(name)
        return default if index < 0 else self._value(index)

    def __setitem__(self, name: str, value: int) -> None:
        packed = value.to_bytes(self.WIDTH, "little")
        index = self._index(name)
        if index < 0:
            self._names = (*self._names, name)
            self._data += packed
            return
        start = index * self.WIDTH
        self._data = self._data[:start] + packed + self._data[start + self.WIDTH :]

    def keys(self) -> tuple[str, ...]:
        return self._names

    def values(self) -> list[int]:
        return [self._value(index) for index in range(len(self._names))]

    def items(self) -> list[tuple[str, int]]:
        return list(zip(self._names, self.values(), strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedInts):
            other = dict(other.items())
        return dict(self.items()) == other

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dict

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self.items())!r})"
