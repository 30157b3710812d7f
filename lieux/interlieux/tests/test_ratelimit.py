from lieux.interlieux.ratelimit import SlidingWindowLimit


def test_the_window_slides():
    clock = [0.0]
    limit = SlidingWindowLimit(limit=3, per_seconds=1.0, clock=lambda: clock[0])
    assert [limit.allow("door") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("other door")
    clock[0] = 0.5
    assert not limit.allow("door")
    clock[0] = 1.01
    assert limit.allow("door") and limit.allow("door") and limit.allow("door")
    assert not limit.allow("door")
