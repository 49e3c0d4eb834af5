"""Bundled example scenarios (package data) for ``nenscope recommend --example NAME``."""
