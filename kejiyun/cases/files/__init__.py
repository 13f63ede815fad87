"""A case's private files (attachments and outcome evidence): who may fetch them and the views
that send them and take new attachments."""
