"""The ``mlflow-cfn`` console script."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlflow_cfn.cost import add_cost_parser
from mlflow_cfn.deploy import add_deploy_parser
from mlflow_cfn.diagram import add_diagram_parser
from mlflow_cfn.evaluate import EvaluationError
from mlflow_cfn.options import SIDECAR_PRESETS, OptionsError, StackOptions
from mlflow_cfn.plan import add_plan_parser, read_template
from mlflow_cfn.service_catalog import add_publish_parser
from mlflow_cfn.template import build_template, render
from mlflow_cfn.versions import __version__


class CliError(Exception):
    """A usage or input error reported as one line and exit code 2."""


def _synth(args: argparse.Namespace) -> int:
    if args.portfolio:
        from mlflow_cfn.portfolio import build_portfolio_template  # reads cfn-lint's schemas

        try:
            product = read_template(args.portfolio_product, "--portfolio-product")
        except EvaluationError as exc:
            raise CliError("; ".join(exc.errors)) from None
        template = build_portfolio_template(product)
    else:
        template = build_template(
            StackOptions(
                ingress_cidr_slots=args.ingress_cidr_slots,
                sidecar=args.sidecar,
                sidecar_environment_slots=args.sidecar_environment_slots,
            )
        )
    text = render(template, args.format)
    if args.output:
        path = Path(args.output)
        if path.is_dir():
            raise CliError(f"--output {args.output} is a directory; give a file path")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        except OSError as exc:
            raise CliError(
                f"--output {args.output}: cannot write it: {exc.strerror or exc}"
            ) from None
    else:
        sys.stdout.write(text)
    return 0


def _positive_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None


def parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    root = argparse.ArgumentParser(
        prog="mlflow-cfn",
        description="Emit, check and publish the CloudFormation template of a production "
        "MLflow server on AWS.",
    )
    root.add_argument("--version", action="version", version=f"mlflow-cfn {__version__}")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser("synth", help="write the CloudFormation template")
    synth.add_argument("--output", "-o", metavar="PATH", help="file to write (default: stdout)")
    synth.add_argument("--format", choices=("json", "yaml"), default="json")
    synth.add_argument(
        "--ingress-cidr-slots",
        type=_positive_int,
        default=StackOptions.ingress_cidr_slots,
        metavar="N",
        help="how many CIDRs LoadBalancerIngressCidrs accepts (default: %(default)s)",
    )
    synth.add_argument(
        "--sidecar",
        choices=SIDECAR_PRESETS,
        help="add a sidecar preset to every task (templates/mlflow-datadog.json is this)",
    )
    synth.add_argument(
        "--sidecar-environment-slots",
        type=_positive_int,
        default=StackOptions.sidecar_environment_slots,
        metavar="N",
        help="how many NAME=value pairs SidecarEnvironment accepts (default: %(default)s)",
    )
    synth.add_argument(
        "--portfolio",
        action="store_true",
        help="write the Service Catalog portfolio template (portfolio, product, launch role) "
        "instead of the product template",
    )
    synth.add_argument(
        "--portfolio-product",
        default="templates/mlflow.json",
        metavar="PATH",
        help="with --portfolio: the product template whose resources the launch role may manage",
    )
    synth.set_defaults(func=_synth)
    add_plan_parser(commands)
    add_deploy_parser(commands)
    add_publish_parser(commands)
    add_cost_parser(commands)
    add_diagram_parser(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except OptionsError as exc:
        for error in exc.errors:
            print(f"mlflow-cfn {args.command}: {error}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"mlflow-cfn {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
