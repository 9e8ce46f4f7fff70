"""One memory budget for every checkpoint load, checked before anything is allocated.

A small file must not make a reader allocate much more than its own size: every array and tensor
a reader is about to create is counted (each object once, however often the pickle's memo shares
it) against the bytes of the file it comes from, and a tensor view must lie inside its storage
(no zero strides, no elements past the end, no more elements than the storage holds). A weight
file stores every element at least once, in at least one byte, so `elements <= file bytes` holds
for every honest checkpoint.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
from collections.abc import Iterator
from typing import Any

from stylegan2.checkpoints.common import CheckpointError
from stylegan2.user_json import json_depth

#: slack over the file size, for tiny files whose pickles carry scalars outside any storage
_SLACK_ELEMENTS = 1 << 16
MAX_TENSOR_DIMS = 6
#: deeper nesting than this in a JSON header or pickled metadata is not a checkpoint
MAX_NESTING = 64
#: nodes walked when turning pickled metadata (training_set_kwargs, args) into JSON
MAX_METADATA_NODES = 10_000


class LoadBudget:
    """Elements a load may create: the file's size in bytes (plus a little slack)."""

    def __init__(self, file_bytes: int, what: str = "the file") -> None:
        self.limit = int(file_bytes) + _SLACK_ELEMENTS
        self.used = 0
        self.what = what
        self._seen: set[int] = set()
        self._keep: list[Any] = []  # ids stay unique while the objects live

    def add(self, obj: Any, elements: int) -> None:
        if id(obj) in self._seen:
            return
        self._seen.add(id(obj))
        self._keep.append(obj)
        self.used += int(elements)
        if self.used > self.limit:
            raise CheckpointError(
                f"refusing to load: {self.what} asks for more than {self.limit:,} elements, "
                f"more than its own {self.limit - _SLACK_ELEMENTS:,} bytes can hold"
            )


_CURRENT: contextvars.ContextVar[LoadBudget | None] = contextvars.ContextVar(
    "stylegan2_load_budget", default=None
)


@contextlib.contextmanager
def budget_for(file_bytes: int, what: str = "the file") -> Iterator[LoadBudget]:
    """Make a budget current for this thread while a reader runs."""
    budget = LoadBudget(file_bytes, what)
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def charge(obj: Any, elements: int) -> None:
    """Count `elements` for `obj` against the current budget (none current: no limit)."""
    budget = _CURRENT.get()
    if budget is not None:
        budget.add(obj, elements)


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or len(value) > MAX_TENSOR_DIMS:
        raise CheckpointError(f"corrupt tensor record: bad {what}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise CheckpointError(f"corrupt tensor record: bad {what} {list(value)[:8]}")
        out.append(v)
    return tuple(out)


def check_view(storage_elements: int, offset: Any, size: Any, stride: Any) -> int:
    """The element count of a tensor view, after checking that it is an honest weight: inside
    its storage, no zero (expanded) strides, no more elements than the storage holds."""
    size_t, stride_t = _ints(size, "size"), _ints(stride, "stride")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise CheckpointError("corrupt tensor record: bad storage offset")
    if len(size_t) != len(stride_t):
        raise CheckpointError("corrupt tensor record: size and stride differ in length")
    numel = math.prod(size_t)
    if numel == 0:
        return 0
    if any(st == 0 and n > 1 for n, st in zip(size_t, stride_t, strict=True)):
        raise CheckpointError(
            "refusing to load: a tensor repeats its elements (zero stride); a weight never does"
        )
    last = offset + sum((n - 1) * st for n, st in zip(size_t, stride_t, strict=True))
    if last >= storage_elements:
        raise CheckpointError(
            f"refusing to load: a tensor of shape {list(size_t)} reaches element {last:,} "
            f"of a storage that holds {storage_elements:,}"
        )
    if numel > storage_elements:
        raise CheckpointError(
            f"refusing to load: a tensor of {numel:,} elements over a storage of "
            f"{storage_elements:,} (overlapping strides)"
        )
    return numel


def loads_bounded(text: str | bytes, what: str) -> Any:
    """json.loads with a nesting limit: deep nesting is a one-line CheckpointError, never a
    RecursionError. Other parse errors stay ValueError for the caller to word."""
    if json_depth(text) > MAX_NESTING:
        raise CheckpointError(f"{what} is nested more than {MAX_NESTING} deep")
    return json.loads(text)
