"""`make bench`: the leaderboard cache measured side by side with the site before caching and
the original fix, against real memcached and DynamoDB Local (see run.py and docs/benchmarks.md)."""
