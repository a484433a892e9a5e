"""Federation tests: Harborgraph, a second subgraph and Hive Gateway as real processes."""
