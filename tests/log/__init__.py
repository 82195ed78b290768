"""Tests of geokb's log layer."""
