"""What every container beside the server shares (sidecars and init containers): not essential,
no privileges, read-only root file system, every Linux capability dropped, logs to CloudWatch."""

from __future__ import annotations

from troposphere.ecs import KernelCapabilities, LinuxParameters, LogConfiguration


def hardened_settings(log_options: dict, stream_prefix: str) -> dict:
    """ContainerDefinition settings of a container the task does not stop for."""
    return {
        "Essential": False,
        "Privileged": False,
        "ReadonlyRootFilesystem": True,
        "LinuxParameters": LinuxParameters(Capabilities=KernelCapabilities(Drop=["ALL"])),
        "LogConfiguration": LogConfiguration(
            LogDriver="awslogs", Options={**log_options, "awslogs-stream-prefix": stream_prefix}
        ),
    }
