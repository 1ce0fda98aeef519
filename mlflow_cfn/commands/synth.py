"""``mlflow-cfn synth``: write the product template (or the network template, or the Service Catalog
portfolio template).

Flags that cannot apply together are refused, naming both, instead of one being ignored: the
product's shape (``--sidecar``, the slot counts) with ``--network`` or ``--portfolio``, the
portfolio's inputs without ``--portfolio``, YAML for an ``--output`` ending in ``.json``.
An ``--output`` that is only a format's name (``--output json``) is refused too: it would write a
file called ``json``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mlflow_cfn.cfn.evaluate import EvaluationError
from mlflow_cfn.cfn.render import render
from mlflow_cfn.commands import CliError
from mlflow_cfn.commands.output import report_errors, write_file
from mlflow_cfn.stack.options import SIDECAR_PRESETS, StackOptions
from mlflow_cfn.stack.plan import read_template
from mlflow_cfn.stack.template import build_template

#: The flags that shape the product template (their values when not given: StackOptions').
PRODUCT_FLAGS = ("--ingress-cidr-slots", "--sidecar", "--sidecar-environment-slots")
PORTFOLIO_FLAGS = ("--portfolio-product", "--portfolio-network")
#: Names an --output is mistaken for (`plan` and `cost` name their formats with --output).
FORMAT_NAMES = ("json", "yaml", "yml", "text")


def _given(args: argparse.Namespace, flag: str) -> bool:
    return getattr(args, flag[2:].replace("-", "_")) is not None


def conflicts(args: argparse.Namespace) -> list[str]:
    """Every pair of flags that cannot apply together, and an --output that names a format."""
    errors = []
    if args.network and args.portfolio:
        errors.append("--network and --portfolio cannot be used together: write one at a time")
    for mode in ("--network", "--portfolio"):
        if getattr(args, mode[2:]):
            errors += [
                f"{mode} and {flag} cannot be used together: {flag} shapes the product template, "
                f"which {mode} does not write"
                + (" (pass it a product with --portfolio-product)" if mode == "--portfolio" else "")
                for flag in PRODUCT_FLAGS
                if _given(args, flag)
            ]
    if not args.portfolio:
        errors += [f"{f} needs --portfolio" for f in PORTFOLIO_FLAGS if _given(args, f)]
    if args.output in FORMAT_NAMES:
        errors.append(
            f"--output {args.output} would write a file named {args.output!r}: --output takes "
            "a file path (mlflow.json, mlflow.yaml), --format the format (standard output "
            f"without --output); for a file of that name, write ./{args.output}"
        )
    elif args.format == "yaml" and (args.output or "").lower().endswith(".json"):
        errors.append(  # the other way round is fine: JSON is YAML
            f"--format yaml and --output {args.output} disagree: a .json file would hold YAML; "
            "drop one, or make them agree"
        )
    return errors


def _template(args: argparse.Namespace):
    """The template the arguments ask for."""
    if args.network:
        from mlflow_cfn.network import build_network_template

        return build_network_template()
    if args.portfolio:
        from mlflow_cfn.catalog.portfolio import (
            build_portfolio_template,  # reads cfn-lint's schemas
        )

        try:
            product = read_template(args.portfolio_product, "--portfolio-product")
            network = _portfolio_network(args.portfolio_network)
        except EvaluationError as exc:
            raise CliError("; ".join(exc.errors)) from None
        return build_portfolio_template(product, network=network)
    defaults = StackOptions()
    return build_template(
        StackOptions(
            ingress_cidr_slots=_or(args.ingress_cidr_slots, defaults.ingress_cidr_slots),
            sidecar=args.sidecar,
            sidecar_environment_slots=_or(
                args.sidecar_environment_slots, defaults.sidecar_environment_slots
            ),
        )
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _portfolio_network(source: str | None) -> dict | None:
    """The network template the portfolio offers: built as ``synth --network`` builds it (None),
    none ('') or read from ``source``."""
    if source == "":
        return None
    if source is None:
        from mlflow_cfn.network import network_template

        return network_template()
    return read_template(source, "--portfolio-network")


def run(args: argparse.Namespace) -> int:
    """Write the template to --output or standard output."""
    if errors := conflicts(args):
        return report_errors("synth", errors)
    text = render(_template(args), _format(args))
    if args.output and args.output != "-":
        write_file(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _format(args: argparse.Namespace) -> str:
    """json or yaml: --format, else the --output file's suffix (.yaml, .yml: YAML)."""
    if args.format:
        return args.format
    suffix = (args.output or "").rsplit(".", 1)[-1].lower()
    return "yaml" if suffix in ("yaml", "yml") else "json"


def _whole_number(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {value!r}") from None


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``synth`` command."""
    synth = subparsers.add_parser("synth", help="write the CloudFormation template")
    synth.add_argument(
        "--output", "-o", metavar="PATH", help="file to write (default, or -: standard output)"
    )
    synth.add_argument(
        "--format",
        choices=("json", "yaml"),
        help="(default: yaml for an --output ending in .yaml or .yml, else json)",
    )
    synth.add_argument(
        "--ingress-cidr-slots",
        type=_whole_number,
        metavar="N",
        help="how many CIDRs LoadBalancerIngressCidrs accepts (default: "
        f"{StackOptions.ingress_cidr_slots})",
    )
    synth.add_argument(
        "--sidecar",
        choices=SIDECAR_PRESETS,
        help="add a sidecar preset to every task (templates/mlflow-datadog.json is this)",
    )
    synth.add_argument(
        "--sidecar-environment-slots",
        type=_whole_number,
        metavar="N",
        help="how many NAME=value pairs SidecarEnvironment accepts (default: "
        f"{StackOptions.sidecar_environment_slots})",
    )
    synth.add_argument(
        "--portfolio",
        action="store_true",
        help="write the Service Catalog portfolio template (portfolio, product, launch role) "
        "instead of the product template",
    )
    synth.add_argument(
        "--network",
        action="store_true",
        help="write the network template (a VPC for the product; templates/network.json is "
        "this) instead of the product template",
    )
    synth.add_argument(
        "--portfolio-product",
        metavar="PATH",
        help="with --portfolio: the product template whose resources the launch role may manage "
        "(PATH, file://PATH or -; JSON or YAML; default: the product template, built as synth "
        "builds it)",
    )
    synth.add_argument(
        "--portfolio-network",
        metavar="PATH",
        help="with --portfolio: the network template the portfolio may offer as a second "
        "product with its own launch role ('' for none; default: the network template, built "
        "as synth --network builds it)",
    )
    synth.set_defaults(func=run)
    return synth
