"""Tests of geokb's read layer."""
