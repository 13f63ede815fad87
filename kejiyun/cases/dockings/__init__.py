"""Dockings (对接): staff send a matched S&T worker a request on a case, the worker accepts or
declines. Builds on the workflow (a first docking moves the case from matching to docking)."""
