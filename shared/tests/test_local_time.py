from trip_shared.local_time import duration_label


def test_a_length_of_time_reads_in_hours_and_minutes_in_either_language():
    assert [duration_label(minutes, "en") for minutes in (15, 60, 195, 1440, 0)] == [
        "15 min", "1 h", "3 h 15 min", "24 h", "0 min"]
    assert [duration_label(minutes, "zh-Hans") for minutes in (45, 180, 195)] == ["45 分钟", "3 小时", "3 小时15 分钟"]
