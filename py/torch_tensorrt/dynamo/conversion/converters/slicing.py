"""Converters: slicing."""

from __future__ import annotations
