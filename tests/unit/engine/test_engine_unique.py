"""Uniqueness of job_id in bounded memory: exact, across spilled runs, located."""

from __future__ import annotations

import random

import pytest
from engine_support import Validate, job
from hypothesis import example, given, settings
from hypothesis import strategies as st
from silent_scalper.engine import Reason
from silent_scalper.engine.unique import SortedRunTracker, UniqueTracker, pack, unpack


def test_pack_and_unpack_keep_record_and_line() -> None:
    assert unpack(pack(123_456, 789)) == (123_456, 789)


@pytest.mark.parametrize(("cap", "runs"), [(10, 5), (2, 40)])
def test_given_a_small_memory_cap_then_runs_spill_and_merge_finds_every_duplicate(
    cap: int, runs: int
) -> None:
    """With 40+ runs, groups are merged first (at most 32 files open): same result."""
    with UniqueTracker(memory_entries=cap) as tracker:
        found_now = []
        for i in range(100):
            seen = tracker.add(f"id-{i % 45}", pack(i + 1, i + 2))
            if seen is not None:
                found_now.append(i)
        assert tracker.spilled >= runs
        later = {unpack(where)[0] - 1: unpack(first)[0] - 1 for _, where, first in tracker.finish()}
    # Every occurrence after the first of each of the 45 values is reported exactly once,
    # with the place of an earlier occurrence of the same value.
    assert sorted(found_now + list(later)) == list(range(45, 100))
    assert all(first < i and first % 45 == i % 45 for i, first in later.items())


def _repeats(keys: list[str]) -> list[int]:
    """Index of every occurrence of a key after its first, by a plain set: the reference."""
    seen: set[str] = set()
    found = []
    for i, key in enumerate(keys):
        if key in seen:
            found.append(i)
        seen.add(key)
    return found


def _tracked_duplicates(keys: list[str], cap: int) -> tuple[list[tuple[int, int]], int]:
    with UniqueTracker(memory_entries=cap) as tracker:
        found = []
        for i, key in enumerate(keys):
            first = tracker.add(key, pack(i, 0))
            if first is not None:
                found.append((i, unpack(first)[0]))
        found += [(unpack(where)[0], unpack(first)[0]) for _, where, first in tracker.finish()]
        return sorted(found), tracker.spilled


def test_given_keys_in_order_then_no_spilled_run_is_read_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ids counting up through the file spill runs whose key ranges overlap none: they
    cannot share a key, so finishing merges nothing."""
    keys = [f"J-{i:06d}" for i in range(5_000)]
    with UniqueTracker(memory_entries=100) as tracker:
        monkeypatch.setattr(tracker, "_blocks", lambda path: pytest.fail(f"{path} read back"))
        assert all(tracker.add(key, pack(i, 0)) is None for i, key in enumerate(keys))
        assert tracker.spilled == 50
        assert list(tracker.finish()) == []


@pytest.mark.parametrize(
    "keys",
    [
        # Ordered ids, one repeated 3,000 records later: only the two runs holding it chain.
        pytest.param([f"J-{i:06d}" for i in range(4_000)] + ["J-000017"], id="one-late-repeat"),
        # Ranges that chain (A overlaps B, B overlaps C, A and C do not) and a lone run.
        pytest.param(
            [f"a{i:03d}" for i in range(0, 60)]
            + [f"a{i:03d}" for i in range(50, 110)]
            + [f"a{i:03d}" for i in range(105, 165)]
            + [f"z{i:03d}" for i in range(60)],
            id="chained-ranges",
        ),
        # A repeat equal to another run's first or last key (the ranges touch).
        pytest.param(["b", "c", "d", "a", "e", "f", "d", "g", "h"], id="touching-ranges"),
        pytest.param([f"k{(i * 7919) % 1000:04d}" for i in range(3_000)], id="shuffled"),
    ],
)
@pytest.mark.parametrize("cap", [1, 3, 60, 100_000])
def test_given_any_key_order_then_every_repeat_is_found_once_against_an_earlier_place(
    keys: list[str], cap: int
) -> None:
    found, _ = _tracked_duplicates(keys, cap)
    assert [i for i, _ in found] == _repeats(keys)
    assert all(first < i and keys[first] == keys[i] for i, first in found)


_KEY = st.one_of(st.integers(0, 90).map(lambda i: f"k{i:03d}"), st.none())
_BATCH = st.one_of(
    # ids counting up from anywhere (often past every id before them, sometimes not)
    st.tuples(st.integers(0, 80), st.integers(1, 30)).map(
        lambda run: [f"k{run[0] + i:03d}" for i in range(run[1])]
    ),
    st.lists(_KEY, min_size=1, max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_BATCH, max_size=14), st.integers(1, 60))
# a batch out of order raises the highest key that a later rising batch must pass
@example([["k005"], ["k010", "k003"], [f"k{i:03d}" for i in range(6, 13)]], 60)
def test_given_batches_rising_or_not_when_added_as_the_engine_does_then_every_repeat_is_found(
    batches: list[list[object]], cap: int
) -> None:
    # Given batches of keys (the engine's keys are text), some counting up past every key
    # before them, some not, with absent keys among them
    keys = [key for batch in batches for key in batch]
    found: list[tuple[int, int]] = []
    with UniqueTracker(memory_entries=cap) as tracker:
        # When each batch is added in bulk, and one key at a time when the bulk add
        # declines (as the collector does)
        at = 0
        for batch in batches:
            places = [pack(at + i, 0) for i in range(len(batch))]
            if not tracker.add_batch(batch, iter(places)):
                for i, key in enumerate(batch):
                    first = tracker.add(key, places[i])
                    if first is not None:
                        found.append((at + i, unpack(first)[0]))
            at += len(batch)
        found += [(unpack(where)[0], unpack(first)[0]) for _, where, first in tracker.finish()]
    # Then every later occurrence of a key is reported once, against an earlier one
    assert sorted(i for i, _ in found) == _repeats_present(keys)
    assert all(first < i and keys[first] == keys[i] for i, first in found)


def _repeats_present(keys: list[object]) -> list[int]:
    """:func:`_repeats` for keys that may be absent (None is no key)."""
    seen: set[object] = set()
    out = []
    for i, key in enumerate(keys):
        if key is None:
            continue
        if key in seen:
            out.append(i)
        seen.add(key)
    return out


def test_merge_reports_where_each_duplicate_was_first_seen() -> None:
    with UniqueTracker(memory_entries=2) as tracker:
        for i, key in enumerate(["a", "b", "c", "d", "a", "e", "f", "a"]):
            assert tracker.add(key, pack(i + 1, 0)) is None or key == "a"
        dups = [(key, unpack(where)[0], unpack(first)[0]) for key, where, first in tracker.finish()]
    assert dups == [("a", 5, 1), ("a", 8, 1)]


@pytest.mark.parametrize(("cap", "runs"), [(1_000, 0), (10, 5), (1, 40)])
def test_given_arrow_keys_then_sorted_runs_find_every_duplicate_at_its_first_place(
    cap: int, runs: int
) -> None:
    """Sorted runs (the columnar CSV path's store): the same duplicates as a dict lookup
    per key, each against the first place, with 40+ runs merged in groups first."""
    pa = pytest.importorskip("pyarrow")
    found: list[tuple[str, int, int]] = []
    tracker = SortedRunTracker(cap, lambda key, where, first: found.append((key, where, first)))
    try:
        for start in range(0, 100, 3):  # blocks of 3 keys, one added from Python each
            block = range(start, min(start + 3, 100))
            tracker.add_arrow(
                pa.array([f"id-{i % 45}" for i in block[1:]], pa.string()),
                pa.array([pack(i + 1, i + 2) for i in block[1:]], pa.int64()),
            )
            tracker.add(f"id-{block[0] % 45}", pack(block[0] + 1, block[0] + 2))
        assert tracker.spilled >= runs
        found.extend(tracker.finish())
    finally:
        tracker.close()
    later = sorted((unpack(where)[0] - 1, unpack(first)[0] - 1) for _, where, first in found)
    assert later == [(i, i % 45) for i in range(45, 100)]


@pytest.mark.parametrize("max_errors", [100, 2])
@pytest.mark.parametrize("name", ["a.ndjson", "a.json"])
def test_given_ids_used_many_times_then_the_summary_does_not_depend_on_the_memory_cap(
    validate: Validate, name: str, max_errors: int
) -> None:
    """Where the store spills decides which store sees which repeat; every repeat is still
    worded against its id's first place, so any cap gives the same summary."""
    ids = list(range(1, 1_501))
    for at, n in [(700, 5), (710, 5), (1_400, 5), (900, 800), (905, 800), (1_200, 1_100)]:
        ids[at] = n
    records = [job(i) for i in ids]
    data = "\n".join(records) if name.endswith("ndjson") else "[" + ",\n".join(records) + "]"
    summaries = [
        validate(data, name, unique_memory_entries=cap, max_errors=max_errors).to_dict()
        for cap in (1, 7, 64, 500, 10_000)
    ]
    assert all(s == summaries[0] for s in summaries)
    assert summaries[0]["invalid_records"] == 6
    firsts = [5, 5, 800, 800, 1_100, 5]  # by place: records 701, 711, 901, 906, 1201, 1401
    named = [f"line {n}" if name.endswith("ndjson") else f"$[{n - 1}]" for n in firsts]
    named = named[:max_errors]
    assert [e["message"].split("already used by ")[1] for e in summaries[0]["errors"]] == named


def test_given_hundreds_of_repeats_and_few_errors_kept_then_the_summary_is_the_same(
    validate: Validate,
) -> None:
    """Repeats found out of file order replace kept ones; the bookkeeping of the kept
    repeats is pruned as they go, and the summary still does not depend on the cap."""
    ids = list(range(1, 2_001))
    scatter = random.Random(3)
    for _ in range(300):  # ids 1..99 used again at scattered places
        ids[scatter.randrange(100, 2_000)] = scatter.randrange(1, 100)
    data = "\n".join(job(i) for i in ids)
    summaries = [
        validate(data, "a.ndjson", unique_memory_entries=cap, max_errors=3).to_dict()
        for cap in (1, 3, 64, 10_000)
    ]
    assert all(s == summaries[0] for s in summaries)
    first_line: dict[int, int] = {}
    expected = []  # (line of each repeat, line of its id's first use), by a plain dict
    for line, n in enumerate(ids, start=1):
        if n in first_line:
            expected.append((f"line {line}, $.job_id", f"line {first_line[n]}"))
        first_line.setdefault(n, line)
    assert summaries[0]["invalid_records"] == len(expected) > 200
    assert [
        (e["location"], e["message"].split("already used by ")[1]) for e in summaries[0]["errors"]
    ] == expected[:3]


def test_given_more_ids_than_memory_then_duplicates_are_still_located(
    validate: Validate,
) -> None:
    lines = [job(i) for i in range(1, 3001)]
    lines.append(job(17, status="running"))  # record 3001 repeats J-0017 (record 17)
    lines.append(job(2999))
    s = validate("\n".join(lines), "a.ndjson", unique_memory_entries=100)
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert [(e.location, e.message) for e in s.errors] == [
        ("line 3001, $.job_id", "job_id 'J-0017' is not unique: already used by line 17"),
        ("line 3002, $.job_id", "job_id 'J-2999' is not unique: already used by line 2999"),
    ]
    assert (s.records, s.invalid_records, s.job_ids) == (3002, 2, 3000)


def test_given_csv_duplicates_then_record_and_line_of_both(validate: Validate) -> None:
    data = (
        "job_id,submitted_at,customer_id,status,notes\n"
        'J-1,2026-01-05T09:30:00Z,7,queued,"two\nlines"\n'
        "J-2,2026-01-05T09:30:00Z,7,queued,\n"
        "J-1,2026-01-05T09:30:00Z,7,queued,\n"
    )
    s = validate(data, "a.csv")
    assert s.errors[0].location == "record 3 (line 5), column job_id"
    assert s.errors[0].message == "job_id 'J-1' is not unique: already used by record 1 (line 2)"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 40), max_size=90),
    st.sampled_from(["rising", "rising-with-repeats", "any"]),
    st.sampled_from([1, 7, 1_000]),
    st.integers(1, 9),
)
def test_given_keys_rising_or_not_then_sorted_runs_report_what_a_dict_lookup_does(
    values: list[int], order: str, cap: int, block: int
) -> None:
    """Keys already in strictly rising order skip the sort; whatever the order and the
    spills, every later occurrence is reported once, against an earlier place of its key,
    and the earliest place reported for a key is its first (the collector names that)."""
    pa = pytest.importorskip("pyarrow")
    if order == "rising":
        values = sorted(set(values))
    elif order == "rising-with-repeats":
        values = sorted(values)
    keys = [f"k{v:02d}" for v in values]
    found: list[tuple[int, int]] = []
    tracker = SortedRunTracker(cap, lambda key, where, first: found.append((where, first)))
    try:
        for start in range(0, len(keys), block):
            tracker.add_arrow(
                pa.array(keys[start : start + block], pa.string()),
                pa.array(range(start, start + len(keys[start : start + block])), pa.int64()),
            )
        found.extend((where, first) for _, where, first in tracker.finish())
    finally:
        tracker.close()
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    assert sorted(where for where, _ in found) == [i for i, k in enumerate(keys) if first[k] < i]
    assert all(seen < where and keys[seen] == keys[where] for where, seen in found)
    earliest: dict[str, int] = {}
    for _, seen in found:
        earliest[keys[seen]] = min(seen, earliest.get(keys[seen], seen))
    assert earliest == {k: i for k, i in first.items() if keys.count(k) > 1}
