"""Science content (科普内容): articles, videos and courses; science review, published
versions and quizzes; and the reading of published content (sessions, read-to-end, quiz
answers, bot-like reads)."""
