"""Text and date fields every service accepts: bounded, clean, and a date only when written as one."""
import pytest
from pydantic import BaseModel, Field, ValidationError

from trip_shared.text import clean_text, unsafe_character
from trip_shared.web.fields import IsoDate, Line, Text


class Form(BaseModel):
    title: Line = Field(max_length=50)
    notes: Text | None = Field(None, max_length=500)
    day: IsoDate | None = None


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\tb", "a\x00b", "a\x1b[2Jb", "a\x85b", "a\u2028b", "a\u202eb",
                                 "a\u2067b", "\ufeffa"])
def test_a_line_refuses_controls_breaks_and_bidi_overrides(bad):
    with pytest.raises(ValidationError) as refused:
        Form(title=bad)
    assert "must not contain U+" in str(refused.value)


def test_multi_line_text_keeps_its_lines_and_tabs_but_nothing_else():
    assert Form(title="x", notes="first\r\nsecond\tend").notes == "first\nsecond\tend"
    with pytest.raises(ValidationError):
        Form(title="x", notes="bell\x07")
    assert unsafe_character("Zoë 李 👩‍👩‍👧 café", multiline=False) is None, "letters, CJK and emoji are fine"
    assert clean_text("Cafe\u0301", multiline=False) == "Café", "text is stored NFC-normalised"


def test_a_date_is_written_as_a_date():
    assert str(Form(title="x", day="2027-05-01").day) == "2027-05-01"
    for bad in (20270501, 1800835200, "2027-05-01T00:00", "1 May 2027", True):
        with pytest.raises(ValidationError):
            Form(title="x", day=bad)
