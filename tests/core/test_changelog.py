"""The change log against a reference model: what changed since any position it can tell, and
the newest version of each player it names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tatourney.changelog import (
    MAX_ENTRIES,
    MAX_PLAYER_CHARACTERS,
    ChangeLog,
    Position,
    Version,
    version_of,
)
from tatourney.table import StatsRow

versions = st.none() | st.tuples(*[st.integers(0, 10**12)] * 3)
batches = st.lists(
    st.dictionaries(st.text(min_size=1, max_size=8), versions, max_size=4), max_size=40
)


@given(batches, st.data())
def test_changed_since_is_the_union_of_the_batches_after_the_position(
    appended: list[dict[str, Version]], data: st.DataObject
) -> None:
    log = ChangeLog.new()
    for changes in appended:
        log = ChangeLog.decode(log.append(changes).encode()) or ChangeLog.new()
    assert log.seq == len(appended)
    since = data.draw(st.integers(0, len(appended)))
    expected = {player for changes in appended[since:] for player in changes}
    assert log.changed_since(Position(log.epoch, since)) == frozenset(expected)


@given(batches)
def test_versions_are_the_newest_each_player_was_logged_at(
    appended: list[dict[str, Version]],
) -> None:
    log = ChangeLog.new()
    newest: dict[str, Version] = {}
    for changes in appended:
        log = ChangeLog.decode(log.append(changes).encode()) or ChangeLog.new()
        newest.update(changes)
    assert log.versions() == newest


def test_a_removal_is_logged_as_no_version_and_a_row_is_at_its_counts() -> None:
    log = ChangeLog.new().append({"Tia": (11, 8, 5500)}).append({"Tia": None})
    assert log.versions() == {"Tia": None}
    assert version_of(None) is None
    assert version_of(StatsRow("Tia", 11, 8, 5500)) == (11, 8, 5500)


def test_another_epoch_or_a_position_ahead_cannot_be_told() -> None:
    log = ChangeLog.new().append({"Tia": (1, 1, 1)})
    assert log.changed_since(Position(log.epoch + 1, 1)) is None
    assert log.changed_since(Position(log.epoch, 2)) is None
    assert log.changed_since(Position(log.epoch, 1)) == frozenset()


def test_entries_beyond_the_bound_are_dropped_and_then_cannot_be_told() -> None:
    log = ChangeLog.new()
    for number in range(MAX_ENTRIES + 5):
        log = log.append({f"player-{number}": (number, 0, 0)})
    assert len(log.entries) == MAX_ENTRIES
    oldest_kept = log.entries[0][0]
    assert log.changed_since(Position(log.epoch, oldest_kept - 1)) is not None
    assert log.changed_since(Position(log.epoch, oldest_kept - 2)) is None


def test_long_names_are_bounded_by_characters_keeping_the_newest_entry() -> None:
    log = ChangeLog.new()
    for number in range(5):
        log = log.append({str(number) * (MAX_PLAYER_CHARACTERS // 2 + 1): (1, 0, 0)})
    assert [seq for seq, _ in log.entries] == [5]
    assert log.changed_since(Position(log.epoch, 4)) == frozenset(
        {"4" * (MAX_PLAYER_CHARACTERS // 2 + 1)}
    )
    assert log.changed_since(Position(log.epoch, 3)) is None


@given(st.binary(max_size=300))
def test_unreadable_values_are_no_log_never_an_error(value: bytes) -> None:
    decoded = ChangeLog.decode(value)
    assert decoded is None or isinstance(decoded, ChangeLog)


def test_a_log_of_the_format_without_versions_is_no_log() -> None:
    assert ChangeLog.decode(b'{"epoch":1,"seq":1,"entries":[[1,["Tia"]]]}') is None
