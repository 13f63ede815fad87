"""Writes for 精准科普, one module per feature: content (review, versions, quizzes, reading),
consent and campaigns (audience, sending), and reading outcomes and activities."""
