"""Package data: the pmir standard library modules that contracts ``import`` by name."""
