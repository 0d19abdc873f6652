"""Benchmarks of Printdesk's hot paths against fixed goals and a peer (see bench/README.md)."""
