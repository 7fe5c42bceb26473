"""Counts the security tests report at the end of the run (see conftest.py) and that
docs/security.md records: fuzzed operations and examples, isolation URLs × credentials."""

from collections import Counter, defaultdict

fuzz_examples: Counter = Counter()  # "METHOD /path" -> examples run
isolation_checks: defaultdict = defaultdict(set)  # route -> {credential names}


def summary_lines() -> list[str]:
    lines = []
    if fuzz_examples:
        lines.append(
            f"schemathesis: {len(fuzz_examples)} operations x examples = "
            f"{sum(fuzz_examples.values())} calls "
            f"(min {min(fuzz_examples.values())}, max {max(fuzz_examples.values())} per operation)"
        )
    if isolation_checks:
        credentials = set().union(*isolation_checks.values())
        pairs = sum(len(names) for names in isolation_checks.values())
        lines.append(
            f"isolation matrix: {len(isolation_checks)} routes x {len(credentials)} credentials "
            f"= {pairs} refused requests"
        )
    return lines
