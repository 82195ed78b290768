"""Tests of the SPARQL text policy shared by every door."""
