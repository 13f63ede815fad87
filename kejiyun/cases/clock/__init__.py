"""The case clock: when each step falls due, pausing it while waiting on the enterprise, and
escalating an overdue case to the centre one level up. Needs nothing of the workflow or the
dockings (they build on it)."""
