"""Tools an agent calls from inside an episode: retrieval search and the Python sandbox."""
