"""The compiled read path's SQL side: a plan of the answer's JSON becomes one statement per
source, built from the same row sources and row rules as the loaders; no GraphQL here."""
