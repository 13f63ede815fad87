"""Performance scoring (精准绩效) and fund allocation (精准资金分配): indicator schemes score the
centres on verified outcomes with confirmed gaming taken off, and a budget is split by score
under a published formula that a second person approves (docs/performance.md)."""
