"""Tests of geokb's reliability layer."""
