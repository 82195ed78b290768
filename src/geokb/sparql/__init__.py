"""SPARQL text policy shared by every door: what a query or update may ask for."""
