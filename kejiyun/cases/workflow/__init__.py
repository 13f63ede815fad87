"""The 一单一策 workflow: the step table, opening and owning cases, moving them through their
steps to an outcome the enterprise confirms or disputes, the record kept along the way, and
the staff's and enterprise's case pages. Builds on the clock for due times."""
