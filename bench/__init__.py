"""Benchmarks that print figures (never pass/fail on time): `scrm bench <name>` runs bench.<name>.main."""
