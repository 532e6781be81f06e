"""User studies: the statistics a paper reports, as plain functions (no store, no UI)."""
