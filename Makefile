# The two commands a new user needs: `make run` and `make test`.
.PHONY: run run-scaled test e2e clock-check lint bench install clean

run:
	@bash scripts/bootstrap.sh run
	@bash scripts/run.sh

# The same app on PostgreSQL and Redis with two app workers (throwaway database and Redis).
run-scaled:
	@bash scripts/bootstrap.sh scaled
	@RUN_SCALED=1 bash scripts/run.sh

test:
	@bash scripts/bootstrap.sh test
	@bash scripts/test.sh

# Only the browser tests: `make e2e K=waiting` selects by name (pytest -k), HEADED=1 shows the browser.
e2e:
	@bash scripts/bootstrap.sh test
	@K="$(K)" HEADED="$(HEADED)" bash scripts/e2e.sh

# The date-dependent tests with the clock on each day of a week and on both clock-change days.
clock-check:
	@bash scripts/bootstrap.sh test
	@bash scripts/clock_check.sh

lint:
	@bash scripts/bootstrap.sh test
	@.venv/bin/ruff check .

bench:
	@bash scripts/bootstrap.sh test
	@bash scripts/bench.sh

clean:
	rm -rf .web .web-* .states var/*.log
