"""Tests of geokb's cli layer."""
