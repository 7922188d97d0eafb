"""Converters: softmax."""

from __future__ import annotations
