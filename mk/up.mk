# `make up`: the whole tournament on this machine (memcached, DynamoDB Local, the three functions,
# the stream pollers, the game simulator and the site); `make down` stops it from another shell.
# Options: make up UP_PORT=8081 UP_GAMES_PER_MINUTE=12 UP_MEMCACHED_NODES=3 UP_ARGS="--function-log-level INFO"

UP_PORT ?= 8080
UP_MEMCACHED_NODES ?= 1
UP_GAMES_PER_MINUTE ?= 6
UP_ARGS ?=
# Where the PID file, the endpoints file (how `make play` finds the stack) and the failure log live.
UP_STATE_DIR ?= .local
RUNNER := PYTHONPATH=src $(PY) -m tatourney_local.runner

up: $(BIN)/.installed node_modules/.installed install-os ## Run everything locally and print the site's URL (Ctrl-C stops it)
	$(RUNNER) up --state-dir $(UP_STATE_DIR) --port $(UP_PORT) --games-per-minute $(UP_GAMES_PER_MINUTE) --memcached-nodes $(UP_MEMCACHED_NODES) $(UP_ARGS)

down: $(BIN)/.installed ## Stop what `make up` started (by the PIDs in .local/up.pid)
	$(RUNNER) down --state-dir $(UP_STATE_DIR)

play: $(BIN)/.installed ## Play one random game in the running `make up` (the page shows it within seconds)
	$(RUNNER) play --state-dir $(UP_STATE_DIR)
