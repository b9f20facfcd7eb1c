# `make bench`: the cache's effect measured side by side (the site before caching, the original
# fix, tatourney) against a real memcached and DynamoDB Local; prints a table, writes
# bench/results/ (latest.json, summary.md, latency.png) and puts the summary into docs/benchmarks.md
# and its headline figures into README.md (bench/headline.py), as bench-large and bench-cold-start do.
# A benchmark, not a test: nothing in it asserts a time. `make bench-quick` measures less and
# writes .local/bench-quick/.

# BENCH_PLAYERS=10,1000,10000,100000 measures other board sizes (ascending; the table only grows).
BENCH_AT := PYTHONPATH=src $(PY) -m bench
BENCH := $(BENCH_AT) $(if $(BENCH_PLAYERS),--players $(BENCH_PLAYERS))
HEADLINE := PYTHONPATH=src $(PY) -m bench.headline README.md

bench: $(BIN)/.installed node_modules/.installed install-os bench-cold-start ## Benchmark uncached vs the original fix vs tatourney (~5 min; writes bench/results/ and the summary in docs/benchmarks.md)
	$(BENCH) --command "make bench" --doc docs/benchmarks.md
	$(HEADLINE)

# 100,000 players does not fit in make bench's ten minutes (the baselines' full Scans alone take
# minutes): its own target, its own folder.
bench-large: $(BIN)/.installed node_modules/.installed install-os ## The benchmark at 100,000 players (~20 min; writes bench/results/100000-players/ and its summary in docs/benchmarks.md)
	$(BENCH_AT) --players 100000 --output bench/results/100000-players --command "make bench-large" \
		--doc docs/benchmarks.md --section bench-large-summary
	$(HEADLINE)

# The packaged functions' import and initialisation in a bare Python 3.12 with the runtime's boto3
# and the Powertools layer, beside `import boto3` alone (bench/cold_start.py).
bench-cold-start: $(BIN)/.installed ## Cold start of the packaged handlers beside `import boto3` alone (writes bench/results/cold-start.*)
	@test -n "$(LAMBDA_PYTHON)" || { echo "needs Python 3.12 (Lambda's python3.12): pyenv install 3.12, or LAMBDA_PYTHON=/path/to/python3.12" >&2; exit 1; }
	PYTHONPATH=src $(PY) -m bench.cold_start --python $(LAMBDA_PYTHON) --command "make bench-cold-start"
	$(PY) tools/readme_section.py docs/benchmarks.md cold-start bench/results/cold-start.md
	$(HEADLINE)

bench-quick: $(BIN)/.installed node_modules/.installed install-os ## The benchmark in under a minute (fewer requests and sizes; writes .local/bench-quick/)
	$(BENCH) --quick --command "make bench-quick" --output .local/bench-quick
