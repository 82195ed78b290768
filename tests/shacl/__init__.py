"""Tests of geokb's shacl layer."""
