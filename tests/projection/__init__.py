"""Tests of geokb's projection layer."""
