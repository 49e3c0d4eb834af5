"""core/threads: independent steps side by side, with the results and errors of a plain loop."""

from __future__ import annotations

import threading

import pytest

from nenscope.core import threads
from nenscope.core.diagnostics import collect_warnings, warn
from nenscope.core.errors import InvalidArgumentError


@pytest.fixture(params=[1, 2])
def n_threads(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(threads, "THREADS", request.param)
    return int(request.param)


def test_side_by_side_returns_both_results_in_order(n_threads: int) -> None:
    names: list[str] = []

    def second() -> str:
        names.append(threading.current_thread().name)
        return "second"

    assert threads.side_by_side(lambda: 1, second) == (1, "second")
    assert (names[0] != threading.current_thread().name) == (n_threads == 2)


def test_side_by_side_raises_the_first_calls_error_first(n_threads: int) -> None:
    def fails(text: str) -> int:
        raise ValueError(text)

    with pytest.raises(ValueError, match="first"):
        threads.side_by_side(lambda: fails("first"), lambda: fails("second"))
    with pytest.raises(ValueError, match="second"):
        threads.side_by_side(lambda: 1, lambda: fails("second"))


def test_warnings_of_a_worker_reach_the_callers_collector(n_threads: int) -> None:
    with collect_warnings() as caught:
        threads.side_by_side(lambda: warn("from the caller"), lambda: warn("from the worker"))
        threads.for_each_in_runs(lambda i: warn(f"item {i}"), 4, min_run=2)
    assert sorted(caught) == sorted(
        ["from the caller", "from the worker", "item 0", "item 1", "item 2", "item 3"]
    )


@pytest.mark.parametrize("n", [0, 1, 5, 64, 101])
def test_for_each_in_runs_calls_every_index_once(n_threads: int, n: int) -> None:
    seen = [0] * n
    where: dict[int, str] = {}

    def mark(i: int) -> None:
        seen[i] += 1
        where[i] = threading.current_thread().name

    threads.for_each_in_runs(mark, n, min_run=16)
    assert seen == [1] * n
    used = set(where.values())
    assert len(used) == (2 if n_threads == 2 and n >= 32 else min(n, 1))


def test_for_each_in_runs_raises_the_first_failing_index(n_threads: int) -> None:
    def fail_at(i: int) -> None:
        if i in (10, 70):
            raise ValueError(f"index {i}")

    with pytest.raises(ValueError, match="index 10"):
        threads.for_each_in_runs(fail_at, 100, min_run=10)

    def fail_late(i: int) -> None:
        if i == 70:
            raise ValueError(f"index {i}")

    with pytest.raises(ValueError, match="index 70"):
        threads.for_each_in_runs(fail_late, 100, min_run=10)


def test_the_environment_sets_the_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(threads.THREADS_VARIABLE, "1")
    assert threads._threads_from_environment() == 1
    monkeypatch.setenv(threads.THREADS_VARIABLE, " 3 ")
    assert threads._threads_from_environment() == 3
    monkeypatch.delenv(threads.THREADS_VARIABLE)
    assert threads._threads_from_environment() in (1, 2)


@pytest.mark.parametrize("text", ["0", "two", "-1", "1.5"])
def test_a_bad_setting_is_refused_when_used(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv(threads.THREADS_VARIABLE, text)
    monkeypatch.setattr(threads, "THREADS", threads._threads_from_environment())
    with pytest.raises(InvalidArgumentError, match="NENSCOPE_THREADS"):
        threads.side_by_side(lambda: 1, lambda: 2)
