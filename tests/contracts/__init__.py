"""Tests of geokb's contracts layer."""
