"""The public case library (案例库): closed cases with verified outcomes whose enterprise
consented, searchable by field, industry, region and outcome, with rating and recognition."""
