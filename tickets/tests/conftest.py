from tickets.tests import security_counts


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = security_counts.summary_lines()
    if lines:
        terminalreporter.section("security counts")
        for line in lines:
            terminalreporter.write_line(line)
