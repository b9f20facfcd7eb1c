"""tatourney: the shared library of the leaderboard, aggregate and invalidate functions."""
