# `make up`: the whole tournament on this machine (memcached, DynamoDB Local, the three functions,
# the stream pollers, the game simulator and the site); `make down` stops it from another shell.
# Options: make up UP_PORT=8081 UP_GAMES_PER_MINUTE=12 UP_MEMCACHED_NODES=3 UP_REPLICA_LAG_MS=500
#   UP_ARGS="--function-log-level INFO"  (UP_REPLICA_LAG_MS: eventually consistent reads of stats
#   rows lag this far behind the writes, as a DynamoDB replica may; 0 = off)

UP_PORT ?= 8080
UP_MEMCACHED_NODES ?= 1
UP_GAMES_PER_MINUTE ?= 6
UP_REPLICA_LAG_MS ?= 0
UP_ARGS ?=
RUNNER := PYTHONPATH=src $(PY) -m tatourney_local.runner

up: $(BIN)/.installed node_modules/.installed install-os ## Run everything locally and print the site's URL (Ctrl-C stops it)
	$(RUNNER) up --port $(UP_PORT) --games-per-minute $(UP_GAMES_PER_MINUTE) --memcached-nodes $(UP_MEMCACHED_NODES) --replica-lag-ms $(UP_REPLICA_LAG_MS) $(UP_ARGS)

down: $(BIN)/.installed ## Stop what `make up` started (by the PIDs in .local/up.pid)
	$(RUNNER) down
