from mockserver.pagecache import PageCache


def test_page_cache_is_bounded_and_least_recently_used_first_out() -> None:
    cache = PageCache(capacity=100)
    cache.put("a", b"x" * 10)
    cache.put("b", b"y" * 10)
    cache.put("huge", b"z" * 13)  # over an eighth of the capacity: never kept
    assert cache.get("huge") is None
    assert cache.get("a") == b"x" * 10  # now the most recently used
    for i in range(9):
        cache.put(f"k{i}", b"w" * 10)
    assert cache.size == 100
    assert cache.get("b") is None  # the least recently used went first
    assert cache.get("a") == b"x" * 10
    cache.put("k9", b"w" * 10)
    assert cache.get("k0") is None and cache.get("a") == b"x" * 10 and cache.size == 100
