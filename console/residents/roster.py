"""Placeholder: filled in by the feature work."""

from __future__ import annotations
