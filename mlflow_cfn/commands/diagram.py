"""``mlflow-cfn diagram``: draw the stack a template creates, as Graphviz DOT source (``.dot``) or
SVG rendered with Graphviz's ``dot`` (``.svg``), into the file ``--output`` names."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mlflow_cfn.cfn.evaluate import EvaluationError
from mlflow_cfn.commands import CliError
from mlflow_cfn.commands.output import report_errors, write_file
from mlflow_cfn.stack.diagram import diagram, evaluate_stack, render_svg
from mlflow_cfn.stack.plan import DEFAULT_TEMPLATE

DEFAULT_OUTPUT = "docs/architecture.svg"


def run(args: argparse.Namespace) -> int:
    """Write the diagram of the evaluated template as DOT (.dot) or SVG; exit 2 on bad input."""
    output = Path(args.output)
    if output.suffix not in (".svg", ".dot"):
        return report_errors("diagram", [f"--output {output} must end in .svg or .dot"])
    try:
        source = diagram(evaluate_stack(args.template, args.parameters))
        write_file(args.output, source.encode() if output.suffix == ".dot" else render_svg(source))
    except EvaluationError as exc:
        return report_errors("diagram", exc.errors)
    except (RuntimeError, CliError) as exc:
        return report_errors("diagram", [str(exc)])
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``diagram`` command."""
    command = subparsers.add_parser(
        "diagram", help="draw the stack a template creates (Graphviz DOT or SVG)"
    )
    command.add_argument(
        "--parameters",
        metavar="PATH",
        help="parameters as for `plan` (default: the template's defaults, placeholder network)",
    )
    command.add_argument("--template", default=DEFAULT_TEMPLATE, metavar="PATH")
    command.add_argument(
        "--output",
        required=True,
        metavar="PATH",
        help=f"file to write: .svg (rendered with Graphviz `dot`) or .dot, e.g. {DEFAULT_OUTPUT}",
    )
    command.set_defaults(func=run)
    return command
