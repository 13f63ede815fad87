"""The province panel's review: the reviewer pool, assignment through the matching engine
with conflicts excluded, scoring by criterion, outliers for the chair, ranking and the
proposed result."""
