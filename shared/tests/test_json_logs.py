"""Each log entry is one JSON line, whatever a request put into it."""
import json
import logging

from trip_shared.telemetry import JsonLogFormatter


def test_a_message_full_of_line_breaks_is_still_one_line_that_reads_back_the_same():
    message = "GET /v1/itineraries/a\u2028b\x85c\u2029d\ne/feed"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, message, None, None)
    line = JsonLogFormatter("notify").format(record)
    assert len(line.splitlines()) == 1
    assert json.loads(line)["message"] == message
