import pytest

from mockserver.world.clock import Instant, add_months, format_date, format_naive, format_z, parse_timestamp

JAN1 = 1_704_067_200  # 2024-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2024-01-01T00:00:00Z", Instant(JAN1, False)),
        ("2024-01-01T00:00:00.000Z", Instant(JAN1, False)),
        ("2024-01-01T00:00:00.250Z", Instant(JAN1, True)),
        ("2024-01-01T00:00:00.000000001Z", Instant(JAN1, True)),
        ("2024-01-01T05:30:00+05:30", Instant(JAN1, False)),
        ("2023-12-31T19:00:00-05:00", Instant(JAN1, False)),
        ("2024-01-01T00:00:00", Instant(JAN1, False)),
        ("2024-01-01", Instant(JAN1, False)),
        ("2024-01-01 00:00:00z", Instant(JAN1, False)),
    ],
)
def test_every_form_an_sdk_sends_is_read_exactly(text: str, instant: Instant) -> None:
    assert parse_timestamp(text) == instant


def test_a_fraction_rounds_bounds_the_right_way() -> None:
    parsed = parse_timestamp("2024-01-01T00:00:00.5Z")
    assert (parsed.floor, parsed.ceil) == (JAN1, JAN1 + 1)


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01", "2024-01-01T25:00:00Z", "1704067200"])
def test_garbage_is_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_formats_and_month_arithmetic() -> None:
    assert format_z(JAN1) == "2024-01-01T00:00:00Z"
    assert format_naive(JAN1) == "2024-01-01T00:00:00"
    assert format_z(add_months(JAN1 + 86_400 * 40, -2)) == "2023-12-01T00:00:00Z"


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"])
def test_an_offset_carrying_a_time_past_the_years_rfc_3339_names_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="outside the years 0001 to 9999"):
        parse_timestamp(text)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00Z", "0999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"])
def test_every_year_renders_in_four_digits_and_reads_back(text: str) -> None:
    """What is logged and rendered is read again (a replay parses the logged time)."""
    ts = parse_timestamp(text).floor
    assert (format_z(ts), format_naive(ts), format_date(ts)) == (text, text[:-1], text[:10])
