"""Gaming detection (刷量识别), one place for every kind: detectors flag records with a reason
and a confidence, staff of a higher level confirm or clear each flag (audited), and the flags
feed the operations indicators and the performance scores (docs/integrity.md)."""
