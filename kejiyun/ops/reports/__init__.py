"""Half-year work reports (工作汇报) filed by county and city centres."""
