"""Operations data (运营数据): the indicator catalogue, daily rollups per service centre,
dashboards, supervision, half-year work reports (工作汇报) and bulletins (通报)."""
