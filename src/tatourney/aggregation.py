"""Fold one game into its player's stats row, exactly once however often it is delivered.

The game item itself carries the marker: one transaction sets `aggregated_at` on the game (only
if unset) and adds the game to the player's counters. A redelivered record fails the condition
and changes nothing, so stream retries and replays never double count, and the stats row does
not grow with the history it has absorbed.

The bounds of a game, checked on the item as DynamoDB writes it (typed attribute values, as in a
stream record's NewImage) before anything is folded:

- `player`: a string (S) of 1 to 64 characters (code points, not normalised: "é" and "e" +
  U+0301 are two players), without leading or trailing space. Allowed characters: Unicode
  letters, marks, numbers, punctuation and symbols, and the plain space (U+0020); rejected:
  control, format, surrogate, private-use and unassigned code points, and every other
  separator (line, paragraph, and spaces such as U+00A0) - Python's `str.isprintable()`, in the
  Unicode version of the runtime. No allowed character takes more than 4 bytes of UTF-8, so a
  name is at most 256 bytes: far below DynamoDB's 2048-byte limit on a partition key (`player`
  keys both tables).
- `game`: a number (N) that is a whole number from 0 to 10**12, written in digits.
- `score`: a number (N) that is a whole number from 0 to 1,000,000, written in digits. The
  original tournament's scores are in the hundreds; a million leaves room for any scoring rule
  while a player's `total_score` stays an exact integer in JSON and JavaScript (below 2**53)
  for more than 9 billion games at the maximum.
- `winner`: a boolean (BOOL).

"Written in digits" is how DynamoDB writes whole numbers (it trims 600.0 to 600), so a number in
another form (600.0, 6E2, -0, NaN, Infinity) comes only from a hand-made record and is rejected,
as are a number stored as a string (S "600"), a boolean, a set or any other type. Other
attributes (`date`, anything added later) are not checked: nothing is folded from them.
"""

from __future__ import annotations

import enum
import reprlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

PLAYER_MAX_CHARACTERS = 64
GAME_NUMBER_MAX = 10**12
SCORE_MAX = 1_000_000

# Values quoted in a reason are cut short: a rejected value may be 400 KB long.
_quoting = reprlib.Repr()
_quoting.maxstring = _quoting.maxother = 60
_quoting.maxdict = _quoting.maxlist = _quoting.maxset = 4


def shown(value: object) -> str:
    """`value` as a rejection reason quotes it: repr, cut short, non-printable escaped."""
    return _quoting.repr(value)


class InvalidGame(ValueError):
    """A games record that does not describe a game within the bounds; the message says why."""


@dataclass(frozen=True)
class Game:
    player: str
    game: int
    score: int
    winner: bool

    @classmethod
    def from_image(cls, image: object) -> Game:
        """From a games item in DynamoDB's typed form ({"score": {"N": "600"}, ...}), checked
        against the bounds above; InvalidGame names the first attribute outside them."""
        if not isinstance(image, Mapping):
            raise InvalidGame(f"the item is not a map of attributes: {shown(image)}")
        player = _player(_attribute(image, "player", "S"))
        game = _whole_number(image, "game", GAME_NUMBER_MAX)
        score = _whole_number(image, "score", SCORE_MAX)
        winner = _attribute(image, "winner", "BOOL")
        if not isinstance(winner, bool):
            raise InvalidGame(f"winner must be a boolean, got {shown(winner)}")
        return cls(player, game, score, winner)


def _attribute(image: Mapping[Any, Any], name: str, type_code: str) -> object:
    if name not in image:
        raise InvalidGame(f"the item has no {name}")
    value = image[name]
    if not isinstance(value, Mapping) or list(value) != [type_code]:
        raise InvalidGame(f"{name} must be of DynamoDB type {type_code}, got {shown(value)}")
    return value[type_code]


def _player(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidGame(f"player must be a string, got {shown(name)}")
    if not 1 <= len(name) <= PLAYER_MAX_CHARACTERS:
        raise InvalidGame(
            f"player must be 1 to {PLAYER_MAX_CHARACTERS} characters, got {len(name)}"
        )
    if name != name.strip(" "):
        raise InvalidGame(f"player must not start or end with a space: {shown(name)}")
    if not name.isprintable():
        code_point = next(ord(c) for c in name if not c.isprintable())
        raise InvalidGame(
            f"player must hold only letters, marks, numbers, punctuation, symbols and spaces,"
            f" got U+{code_point:04X} in {shown(name)}"
        )
    return name


def _whole_number(image: Mapping[Any, Any], name: str, maximum: int) -> int:
    digits = _attribute(image, name, "N")
    if not isinstance(digits, str) or not digits.isascii() or not digits.isdigit():
        raise InvalidGame(f"{name} must be a whole number written in digits, got {shown(digits)}")
    # Bounded by length before int(): a 100,000-digit string is no number to parse.
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(maximum)) or int(significant) > maximum:
        raise InvalidGame(f"{name} must be from 0 to {maximum}, got {shown(digits)}")
    return int(significant)


class Outcome(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # already folded in: a redelivery
    GAME_GONE = "game_gone"  # the game was deleted before it was folded in: nothing to count


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class StatsWriter:
    def __init__(
        self,
        client: DynamoDBClient,
        games_table: str,
        stats_table: str,
        now: Callable[[], str] = _utc_now,
    ) -> None:
        self._client = client
        self._games_table = games_table
        self._stats_table = stats_table
        self._now = now

    def apply(self, game: Game) -> Outcome:
        now = {"S": self._now()}
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._games_table,
                            "Key": {"player": {"S": game.player}, "game": {"N": str(game.game)}},
                            "UpdateExpression": "SET aggregated_at = :now",
                            "ConditionExpression": (
                                "attribute_exists(player) AND attribute_not_exists(aggregated_at)"
                            ),
                            "ExpressionAttributeValues": {":now": now},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._stats_table,
                            "Key": {"player": {"S": game.player}},
                            "UpdateExpression": "ADD games :one, wins :win, total_score :score"
                            " SET updated_at = :now",
                            "ExpressionAttributeValues": {
                                ":one": {"N": "1"},
                                ":win": {"N": "1" if game.winner else "0"},
                                ":score": {"N": str(game.score)},
                                ":now": now,
                            },
                        }
                    },
                ]
            )
        except ClientError as error:
            reasons = error.response.get("CancellationReasons", [])
            if error.response["Error"]["Code"] != "TransactionCanceledException" or not reasons:
                raise
            marker = reasons[0]
            if marker.get("Code") != "ConditionalCheckFailed":
                raise  # a conflict or throttling: the record is retried
            return Outcome.DUPLICATE if "Item" in marker else Outcome.GAME_GONE
        return Outcome.APPLIED
