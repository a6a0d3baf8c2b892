"""Records and TailList (ledger/rules/records.py): mappings and lists partly kept in a store
behave exactly like a dict and a list."""

from __future__ import annotations

from bisect import bisect_left

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.rules.records import Records, RecordStore, TailList


class DictStore(RecordStore):
    """A store in memory, as the derived-state cache would hold it."""

    def __init__(self):
        self.records: dict[tuple[str, str], dict] = {}
        self.items_: dict[tuple[str, str, int], object] = {}

    def get(self, kind, key):
        return self.records.get((kind, key))

    def items(self, kind):
        return sorted((k, v) for (kind_, k), v in self.records.items() if kind_ == kind)

    def get_many(self, kind, keys):
        return {k: self.records[(kind, k)] for k in keys if (kind, k) in self.records}

    def items_range(self, kind, owner, start, end):
        return [self.items_[(kind, owner, i)] for i in range(start, end)]

    def fork(self, journal):
        return self


operations = st.lists(st.one_of(st.tuples(st.just("append"), st.integers(0, 50)),
                                st.tuples(st.just("spill"), st.integers(0, 4))), max_size=80)


@settings(max_examples=200, deadline=None)
@given(operations, st.data())
def test_a_tail_list_reads_like_a_list_whatever_was_spilled(ops, data):
    store, plain = DictStore(), []
    tail = TailList("breaches", "A", 0, [], store)
    for op, arg in ops:
        if op == "append":
            plain.append(arg)
            tail.append(arg)
        else:
            for ordinal, item in tail.spill(arg):
                store.items_[("breaches", "A", ordinal)] = item
    assert len(tail) == len(plain) and bool(tail) == bool(plain)
    assert list(tail) == plain and list(reversed(tail)) == plain[::-1]
    for _ in range(10):
        start = data.draw(st.integers(-len(plain) - 2, len(plain) + 2))
        end = data.draw(st.one_of(st.none(), st.integers(-len(plain) - 2, len(plain) + 2)))
        assert tail[start:end] == plain[start:end]
        if -len(plain) <= start < len(plain):
            assert tail[start] == plain[start]
    ordered = sorted(plain)
    sorted_tail = TailList("breaches", "B", 0, list(ordered), store)
    for ordinal, item in sorted_tail.spill(1):
        store.items_[("breaches", "B", ordinal)] = item
    for probe in range(-1, 52):
        assert bisect_left(sorted_tail, probe) == bisect_left(ordered, probe)


def test_records_load_back_what_was_evicted_and_keep_what_is_in_use():
    store = DictStore()
    records = Records("claims", {"a": {"n": 1}, "b": {"n": 2}}, store)
    assert records["a"]["n"] == 1                          # touched: stays
    for key, record in records.evict(lambda key, record: False):
        store.records[("claims", key)] = record
    assert set(records.resident) == {"a"} and "b" in records and records.get("z") is None
    records["b"]["n"] = 3                                  # loaded back, changed in place
    assert records.resident["b"] == {"n": 3} and dict(records.items()) == {"a": {"n": 1}, "b": {"n": 3}}
    records.preload(["a", "b", "z"])
    assert len(records) == 2


def test_records_that_saw_every_eviction_ask_the_store_only_for_evicted_keys():
    store = DictStore()
    asked = []
    real_get = store.get
    store.get = lambda kind, key: asked.append(key) or real_get(kind, key)
    records = Records("claims", {}, store, all_evictions_seen=True)
    for n in range(200):
        records[f"k{n}"] = {"n": n}
    assert records.evict(lambda key, record: False) == []   # all touched since: kept this time
    for key, record in records.evict(lambda key, record: False):
        store.records[("claims", key)] = record
    assert not records.resident
    assert "new" not in records and records.get("other") is None
    assert asked == []                                   # new ids: no read of the store
    assert records["k7"] == {"n": 7} and asked == ["k7"]  # an evicted one: read back
