"""Targeting (精准推送): citizens' targeting profiles and their separate consent, campaigns
to a consenting audience, and the personal feed (feed.py ranks it)."""
