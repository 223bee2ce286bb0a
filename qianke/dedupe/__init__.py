"""Duplicate detection (blocking + scored comparison with evidence) and safe merge."""
