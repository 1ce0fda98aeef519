"""The container start-up script, embedded in the task definition (not imported by the package)."""
