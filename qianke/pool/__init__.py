"""Public pool (公海): pools, claims, releases, returns, owner history."""
