"""Developer tooling shared by the test fixtures and the benchmarks; never imported by the app."""
