"""Games between the original tournament's players, written to the games table as it did:
one item per player per game, exactly one winner (the higher score)."""

from __future__ import annotations

import itertools
import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)

PLAYERS = ("Tia", "Julie", "Kelby", "Craig", "Mike", "Rich", "Miles", "John", "Moosa", "Mark")
MAX_SCORE = 1000


@dataclass(frozen=True)
class GameResult:
    game: int
    winner: str
    winner_score: int
    loser: str
    loser_score: int
    date: str

    def __str__(self) -> str:
        return (
            f"game {self.game}: {self.winner} {self.winner_score}"
            f" beat {self.loser} {self.loser_score}"
        )


def record_game(
    client: DynamoDBClient,
    games_table: str,
    game: int,
    scores: dict[str, int],
    when: datetime | None = None,
) -> GameResult:
    """Write game number `game` between the two players in `scores` ({player: score}).

    Both items go in one transaction, each only if that player has no game of that number yet,
    so a game is never half-written and never overwrites another.
    """
    if len(scores) != 2:
        raise ValueError(f"a game has two players, got {sorted(scores)}")
    (winner, winner_score), (loser, loser_score) = sorted(scores.items(), key=lambda s: -s[1])
    if winner_score == loser_score:
        raise ValueError(f"a game has exactly one winner, got a tie at {winner_score}")
    if not all(0 <= score <= MAX_SCORE for score in scores.values()):
        raise ValueError(f"scores are whole numbers from 0 to {MAX_SCORE}, got {scores}")
    date = (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    date = date.replace("+00:00", "Z")
    client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": games_table,
                    "Item": {
                        "player": {"S": player},
                        "game": {"N": str(game)},
                        "date": {"S": date},
                        "score": {"N": str(score)},
                        "winner": {"BOOL": player == winner},
                    },
                    "ConditionExpression": "attribute_not_exists(player)",
                }
            }
            for player, score in scores.items()
        ]
    )
    return GameResult(game, winner, winner_score, loser, loser_score, date)


class GameSimulator:
    """Plays random games: a seed in which everyone plays, then one game at a steady rate."""

    def __init__(
        self,
        client: DynamoDBClient,
        games_table: str,
        games_per_minute: float,
        rng: random.Random | None = None,
        first_game: int = 1,
    ) -> None:
        self._client = client
        self._games_table = games_table
        self._games_per_minute = games_per_minute
        self._rng = rng or random.Random()  # noqa: S311 - game scores, not secrets
        self._numbers = itertools.count(first_game)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._play_forever, name="simulator", daemon=True)

    def play(self, first: str, second: str) -> GameResult:
        """One game between two players, with distinct random scores."""
        first_score, second_score = self._rng.sample(range(MAX_SCORE + 1), 2)
        return record_game(
            self._client,
            self._games_table,
            next(self._numbers),
            {first: first_score, second: second_score},
        )

    def seed(self, rounds: int) -> list[GameResult]:
        """`rounds` rounds in which every player plays exactly one game."""
        results = []
        for _ in range(rounds):
            order = self._rng.sample(PLAYERS, len(PLAYERS))
            results += [self.play(a, b) for a, b in zip(order[::2], order[1::2], strict=True)]
        return results

    def start(self) -> None:
        if self._games_per_minute > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _play_forever(self) -> None:
        interval = 60 / self._games_per_minute
        while not self._stop.wait(interval):
            first, second = self._rng.sample(PLAYERS, 2)
            try:
                logger.info("%s", self.play(first, second))
            except Exception:
                logger.exception("writing a simulated game failed")
