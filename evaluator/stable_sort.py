"""`std::stable_sort` exactly as libstdc++ performs it, for `builtins.sort`.

A stable sort's result is fixed only for a strict weak order. Real comparators often are
not one (`a: b: a.x <= b.x` is common), and then the result depends on the algorithm's
sequence of comparisons. To give Nix's answers for those too, this is libstdc++'s merge
sort step for step (with its temporary buffer, which is always obtained in practice):
insertion-sort runs of 7, merge them pairwise through the buffer, then merge the two
halves, comparing `less(right, left)` where libstdc++ does.

`less(a, b)` may raise; the exception propagates with the list left as it was (callers
sort a copy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_CHUNK = 7
"""libstdc++'s `_S_chunk_size`: runs of this length are insertion-sorted first."""


def stable_sort(items: list[T], less: Callable[[T, T], bool]) -> list[T]:
    """A new list with `items` sorted as libstdc++'s `std::stable_sort(…, less)`."""
    a: list[Any] = list(items)
    n = len(a)
    if n < 2:
        return a
    middle = (n + 1) // 2
    buffer: list[Any] = [None] * middle
    _merge_sort_with_buffer(a, 0, middle, buffer, less)
    _merge_sort_with_buffer(a, middle, n, buffer, less)
    _merge_adaptive(a, 0, middle, n, buffer, less)
    return a


def _insertion_sort(a: list[Any], first: int, last: int, less: Callable[[Any, Any], bool]) -> None:
    for i in range(first + 1, last):
        value = a[i]
        if less(value, a[first]):
            a[first + 1:i + 1] = a[first:i]
            a[first] = value
        else:
            # libstdc++'s unguarded linear insert: it stops at `first` at the latest,
            # because `less(value, a[first])` was just false (Nix comparators are pure).
            j = i
            while j > first and less(value, a[j - 1]):
                a[j] = a[j - 1]
                j -= 1
            a[j] = value


def _move_merge(src: list[Any], first1: int, last1: int, first2: int, last2: int,
                dst: list[Any], out: int, less: Callable[[Any, Any], bool]) -> int:
    while first1 != last1 and first2 != last2:
        if less(src[first2], src[first1]):
            dst[out] = src[first2]
            first2 += 1
        else:
            dst[out] = src[first1]
            first1 += 1
        out += 1
    count = last1 - first1
    dst[out:out + count] = src[first1:last1]
    out += count
    count = last2 - first2
    dst[out:out + count] = src[first2:last2]
    return out + count


def _merge_sort_loop(src: list[Any], first: int, last: int, dst: list[Any], out: int,
                     step: int, less: Callable[[Any, Any], bool]) -> None:
    two_step = 2 * step
    while last - first >= two_step:
        out = _move_merge(src, first, first + step, first + step, first + two_step, dst, out,
                          less)
        first += two_step
    step = min(last - first, step)
    _move_merge(src, first, first + step, first + step, last, dst, out, less)


def _merge_sort_with_buffer(a: list[Any], first: int, last: int, buffer: list[Any],
                            less: Callable[[Any, Any], bool]) -> None:
    length = last - first
    start = first
    while last - start >= _CHUNK:
        _insertion_sort(a, start, start + _CHUNK, less)
        start += _CHUNK
    _insertion_sort(a, start, last, less)
    step = _CHUNK
    while step < length:
        _merge_sort_loop(a, first, last, buffer, 0, step, less)
        step *= 2
        _merge_sort_loop(buffer, 0, length, a, first, step, less)
        step *= 2


def _merge_adaptive(a: list[Any], first: int, middle: int, last: int, buffer: list[Any],
                    less: Callable[[Any, Any], bool]) -> None:
    len1 = middle - first
    len2 = last - middle
    if len1 <= len2:
        # Forward merge with the left half moved to the buffer.
        buffer[0:len1] = a[first:middle]
        b, b_end, right, out = 0, len1, middle, first
        while b != b_end and right != last:
            if less(a[right], buffer[b]):
                a[out] = a[right]
                right += 1
            else:
                a[out] = buffer[b]
                b += 1
            out += 1
        a[out:out + (b_end - b)] = buffer[b:b_end]
        return
    # Backward merge with the right half moved to the buffer.
    buffer[0:len2] = a[middle:last]
    if len1 == 0:
        a[last - len2:last] = buffer[0:len2]
        return
    if len2 == 0:
        return
    left = middle - 1
    right = len2 - 1
    out = last
    while True:
        if less(buffer[right], a[left]):
            out -= 1
            a[out] = a[left]
            if left == first:
                a[out - (right + 1):out] = buffer[0:right + 1]
                return
            left -= 1
        else:
            out -= 1
            a[out] = buffer[right]
            if right == 0:
                return
            right -= 1
