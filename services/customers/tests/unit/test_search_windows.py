import random

from customers.adapters.repository import _CELL_CHARACTERS, key_windows


def _window_of(key, windows):
    return [i for i, (lower, upper) in enumerate(windows)
            if (lower is None or key > lower) and (upper is None or key < upper)]


def test_windows_cover_every_key_after_the_cursor_exactly_once_and_in_order():
    rnd = random.Random(3)
    alphabet = "012 'abcxyzé王-.9\x00"
    keys = sorted({rnd.choice("012") + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 6))) + "\x00id"
                   for _ in range(3000)})
    for after in (None, keys[0], keys[len(keys) // 2], keys[-1], "1mei\x00x"):
        windows = list(key_windows(after))
        later = [key for key in keys if after is None or key > after]
        placed = [_window_of(key, windows) for key in later]
        assert all(len(where) == 1 for where in placed), after
        assert [where[0] for where in placed] == sorted(where[0] for where in placed)
        assert not any(_window_of(key, windows) for key in keys if after is not None and key <= after)


def test_windows_start_narrow_and_never_span_more_than_one_first_letter():
    windows = list(key_windows(None))
    assert windows[0] == (None, "0  ") and windows[-1][1] is None
    uppers = [upper for _, upper in windows]
    assert uppers.count("1") == 1 and uppers.count("2") == 1
    for lower, upper in windows[1:-1]:
        if upper not in ("1", "2") and lower not in ("1", "2"):
            first_letters = _CELL_CHARACTERS.index(upper[1]) - _CELL_CHARACTERS.index(lower[1])
            assert lower[0] == upper[0] and first_letters <= 1


def test_phone_lookups_skip_the_rank_phone_rows_never_have():
    assert list(key_windows(None, "01"))[-1] == ("1zi", None)
