# The two commands a new user needs: `make run` and `make test`.
.PHONY: run test lint bench install clean

run:
	@bash scripts/bootstrap.sh run
	@bash scripts/run.sh

test:
	@bash scripts/bootstrap.sh test
	@bash scripts/test.sh

lint:
	@bash scripts/bootstrap.sh test
	@.venv/bin/ruff check .

bench:
	@bash scripts/bootstrap.sh test
	@bash scripts/bench.sh

clean:
	rm -rf .web .states var/*.log
