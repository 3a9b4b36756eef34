"""The plugin author's API is exactly what moltbot.__all__ promises."""

import moltbot


def test_everything_in_all_is_importable():
    for name in moltbot.__all__:
        assert getattr(moltbot, name) is not None


def test_all_is_sorted_and_unique():
    assert moltbot.__all__ == sorted(set(moltbot.__all__))
