"""The memory level: LRU order, entry and byte bounds, expiry."""

from hypothesis import given, settings
from hypothesis import strategies as st

from moltbot.cache.memory import ENTRY_OVERHEAD, MemoryLRU


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_least_recently_used_goes_first():
    lru = MemoryLRU(max_entries=2, max_bytes=10_000, clock=Clock())
    lru.set("a", b"1", None)
    lru.set("b", b"2", None)
    assert lru.get("a") == b"1"  # a is now the most recent
    lru.set("c", b"3", None)
    assert lru.get("b") is None and lru.get("a") == b"1" and lru.get("c") == b"3"
    assert lru.evictions == 1


def test_byte_bound_counts_keys_values_and_overhead():
    per_entry = 1 + 100 + ENTRY_OVERHEAD
    lru = MemoryLRU(max_entries=100, max_bytes=per_entry * 3, clock=Clock())
    for key in "abcd":
        lru.set(key, b"x" * 100, None)
    assert len(lru) == 3 and lru.bytes == per_entry * 3
    assert lru.get("a") is None
    lru.delete("b")
    assert lru.bytes == per_entry * 2


def test_value_larger_than_the_level_is_not_kept_and_replaces_nothing_stale():
    lru = MemoryLRU(max_entries=10, max_bytes=500, clock=Clock())
    lru.set("k", b"small", None)
    lru.set("k", b"x" * 1000, None)
    assert lru.get("k") is None and lru.bytes == 0


def test_expired_entries_are_not_returned_and_are_swept():
    clock = Clock()
    lru = MemoryLRU(max_entries=10, max_bytes=10_000, clock=clock)
    lru.set("short", b"s", clock.now + 5)
    lru.set("long", b"l", clock.now + 50)
    lru.set("forever", b"f", None)
    clock.now += 10
    assert lru.get("short") is None
    lru.set("other", b"o", clock.now + 1)
    clock.now += 5
    assert lru.evict_expired() == 1  # "other"
    assert len(lru) == 2 and lru.get("long") == b"l" and lru.get("forever") == b"f"


def test_clear_by_prefix():
    lru = MemoryLRU(max_entries=10, max_bytes=10_000, clock=Clock())
    for key in ("a:1", "a:2", "b:1"):
        lru.set(key, b"v", None)
    assert lru.clear("a:") == 2
    assert lru.get("b:1") == b"v"


operations = st.lists(
    st.tuples(
        st.sampled_from(["set", "get", "delete", "tick", "sweep"]),
        st.integers(0, 15),  # key
        st.integers(0, 400),  # value size
        st.one_of(st.none(), st.integers(1, 20)),  # ttl
    ),
    max_size=200,
)


@settings(derandomize=True, max_examples=200)
@given(operations)
def test_bounds_and_byte_accounting_hold_for_any_sequence(ops):
    clock = Clock()
    lru = MemoryLRU(max_entries=5, max_bytes=1500, clock=clock)
    model: dict[str, tuple[bytes, float | None]] = {}
    for op, key_n, size, ttl in ops:
        key = f"ns:{key_n}"
        if op == "set":
            value = bytes([key_n]) * size
            lru.set(key, value, None if ttl is None else clock.now + ttl)
            model[key] = (value, None if ttl is None else clock.now + ttl)
        elif op == "get":
            got = lru.get(key)
            if got is not None:  # anything returned is the latest value and not expired
                value, expires = model[key]
                assert got == value and (expires is None or expires > clock.now)
        elif op == "delete":
            lru.delete(key)
            model.pop(key, None)
        elif op == "tick":
            clock.now += key_n
        else:
            lru.evict_expired()
        assert len(lru) <= 5 and lru.bytes <= 1500
        assert lru.bytes == sum(len(k) + len(v) + ENTRY_OVERHEAD for k, (v, _) in lru._data.items())
