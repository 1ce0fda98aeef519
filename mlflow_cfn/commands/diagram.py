"""``mlflow-cfn diagram``: draw the stack a template creates, as Graphviz DOT source (``.dot``) or
SVG rendered with Graphviz's ``dot`` (``.svg``), into the file ``--output`` names."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mlflow_cfn.cfn.evaluate import EvaluationError
from mlflow_cfn.commands import CliError
from mlflow_cfn.commands.output import report_errors, write_file
from mlflow_cfn.stack.diagram import diagram, evaluate_stack, render_svg
from mlflow_cfn.stack.plan import DEFAULT_TEMPLATE

DEFAULT_OUTPUT = "docs/architecture.svg"


def _format(args: argparse.Namespace) -> str:
    """svg or dot: --format, else the --output file's suffix (standard output: svg)."""
    if args.format:
        return args.format
    if args.output == "-":
        return "svg"
    suffix = Path(args.output).suffix
    if suffix not in (".svg", ".dot"):
        raise CliError(f"--output {args.output} must end in .svg or .dot (or give --format)")
    return suffix[1:]


def run(args: argparse.Namespace) -> int:
    """Write the diagram of the evaluated template as DOT or SVG to --output (``-``: standard
    output); exit 2 on bad input."""
    try:
        kind = _format(args)
        source = diagram(evaluate_stack(args.template, args.parameters))
        content = source.encode() if kind == "dot" else render_svg(source)
        if args.output == "-":
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
        else:
            write_file(args.output, content)
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
    command.add_argument(
        "--template",
        default=DEFAULT_TEMPLATE,
        metavar="PATH",
        help="template (PATH, file://PATH or -; JSON or YAML; default: the product template)",
    )
    command.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="PATH",
        help=f"file to write: .svg (rendered with Graphviz `dot`) or .dot, e.g. {DEFAULT_OUTPUT}; "
        "- for standard output",
    )
    command.add_argument(
        "--format", choices=("svg", "dot"), help="(default: from --output's suffix; - is svg)"
    )
    command.set_defaults(func=run)
    return command
