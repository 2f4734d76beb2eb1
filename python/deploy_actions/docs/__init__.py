"""Docs that say what the repository really does: the docs-drift rules."""
