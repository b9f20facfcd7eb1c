"""Fold one game into its player's stats row, exactly once however often it is delivered.

The game item itself carries the marker: one transaction sets `aggregated_at` on the game (only
if unset) and adds the game to the player's counters. A redelivered record fails the condition
and changes nothing, so stream retries and replays never double count, and the stats row does
not grow with the history it has absorbed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient


class InvalidGame(ValueError):
    """A games item that does not describe a game (kept for the on-failure destination)."""


@dataclass(frozen=True)
class Game:
    player: str
    game: int
    score: int
    winner: bool

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Game:
        """From a deserialized games item (numbers arrive as Decimal)."""
        try:
            player, game, score, winner = (
                item["player"],
                item["game"],
                item["score"],
                item["winner"],
            )
        except KeyError as missing:
            raise InvalidGame(f"game item lacks {missing.args[0]!r}: {dict(item)!r}") from None
        if not isinstance(player, str) or not player:
            raise InvalidGame(f"player must be a non-empty string: {player!r}")
        if not isinstance(winner, bool):
            raise InvalidGame(f"winner must be a boolean: {winner!r}")
        try:
            game_number, points = int(game), int(score)
        except (TypeError, ValueError):
            raise InvalidGame(f"game and score must be numbers: {game!r}, {score!r}") from None
        if game_number != game or points != score or points < 0:
            raise InvalidGame(f"game and score must be whole numbers >= 0: {game!r}, {score!r}")
        return cls(player, game_number, points, winner)


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
