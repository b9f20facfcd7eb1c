"""The change log against a reference model: what changed since any position it can tell."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tatourney.changelog import MAX_ENTRIES, MAX_PLAYER_CHARACTERS, ChangeLog, Position

batches = st.lists(st.lists(st.text(min_size=1, max_size=8), max_size=4), max_size=40)


@given(batches, st.data())
def test_changed_since_is_the_union_of_the_batches_after_the_position(
    appended: list[list[str]], data: st.DataObject
) -> None:
    log = ChangeLog.new()
    for players in appended:
        log = ChangeLog.decode(log.append(players).encode()) or ChangeLog.new()
    assert log.seq == len(appended)
    since = data.draw(st.integers(0, len(appended)))
    expected = {player for players in appended[since:] for player in players}
    assert log.changed_since(Position(log.epoch, since)) == frozenset(expected)


def test_another_epoch_or_a_position_ahead_cannot_be_told() -> None:
    log = ChangeLog.new().append(["Tia"])
    assert log.changed_since(Position(log.epoch + 1, 1)) is None
    assert log.changed_since(Position(log.epoch, 2)) is None
    assert log.changed_since(Position(log.epoch, 1)) == frozenset()


def test_entries_beyond_the_bound_are_dropped_and_then_cannot_be_told() -> None:
    log = ChangeLog.new()
    for number in range(MAX_ENTRIES + 5):
        log = log.append([f"player-{number}"])
    assert len(log.entries) == MAX_ENTRIES
    oldest_kept = log.entries[0][0]
    assert log.changed_since(Position(log.epoch, oldest_kept - 1)) is not None
    assert log.changed_since(Position(log.epoch, oldest_kept - 2)) is None


def test_long_names_are_bounded_by_characters_keeping_the_newest_entry() -> None:
    log = ChangeLog.new()
    for number in range(5):
        log = log.append([str(number) * (MAX_PLAYER_CHARACTERS // 2 + 1)])
    assert [seq for seq, _ in log.entries] == [5]
    assert log.changed_since(Position(log.epoch, 4)) == frozenset(
        {"4" * (MAX_PLAYER_CHARACTERS // 2 + 1)}
    )
    assert log.changed_since(Position(log.epoch, 3)) is None


@given(st.binary(max_size=300))
def test_unreadable_values_are_no_log_never_an_error(value: bytes) -> None:
    decoded = ChangeLog.decode(value)
    assert decoded is None or isinstance(decoded, ChangeLog)
