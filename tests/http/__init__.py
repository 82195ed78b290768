"""Tests of geokb's http layer."""
