# `make bench`: the cache's effect measured side by side (the site before caching, the original
# fix, tatourney) against a real memcached and DynamoDB Local; prints a table, writes
# bench/results/ (latest.json, summary.md, latency.png) and puts the summary into docs/benchmarks.md.
# A benchmark, not a test: nothing in it asserts a time. `make bench-quick` measures less and
# writes .local/bench-quick/.

# BENCH_PLAYERS=10,1000,10000,100000 measures other board sizes (ascending; the table only grows).
BENCH := PYTHONPATH=src $(PY) -m bench $(if $(BENCH_PLAYERS),--players $(BENCH_PLAYERS))

bench: $(BIN)/.installed node_modules/.installed install-os ## Benchmark uncached vs the original fix vs tatourney (~5 min; writes bench/results/ and the summary in docs/benchmarks.md)
	$(BENCH) --command "make bench" --doc docs/benchmarks.md

bench-quick: $(BIN)/.installed node_modules/.installed install-os ## The benchmark in under a minute (fewer requests and sizes; writes .local/bench-quick/)
	$(BENCH) --quick --command "make bench-quick" --output .local/bench-quick
