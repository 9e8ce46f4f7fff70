"""One module per panel. A panel reads and writes the explorer state only."""
