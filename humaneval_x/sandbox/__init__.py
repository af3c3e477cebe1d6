"""Sandboxes: images, the sandbox interface, the Docker implementation, worker pools."""
