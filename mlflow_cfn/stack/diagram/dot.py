"""Graphviz output of a diagram: `diagram` builds the graph of an evaluated stack tier by tier
and writes it as DOT source (a cluster per tier, arrows styled by kind, a caption with the legend
and the resources not drawn); `render_svg` turns DOT into SVG with the ``dot`` binary. The output
is sorted, so the same stack always gives the same DOT and, with the same Graphviz, the same SVG.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter

from mlflow_cfn.cfn.evaluate import Evaluated
from mlflow_cfn.stack.diagram.data import add_data_and_observability
from mlflow_cfn.stack.diagram.graph import (
    CLIENTS,
    DRAWN_TYPES,
    EDGE_STYLES,
    LEGEND,
    TIERS,
    Graph,
    short_type,
)
from mlflow_cfn.stack.diagram.load_balancing import add_load_balancing, clients_caption
from mlflow_cfn.stack.diagram.service import add_service


def _quote(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(lines: tuple[str, ...] | list[str], *, left: bool = False) -> str:
    """A multi-line DOT label, its lines centred or (``left``) left-aligned."""
    if left:
        return _quote("\n".join(lines) + "\n").replace("\n", "\\l")
    return _quote("\n".join(lines)).replace("\n", "\\n")


def _caption(stack: Evaluated) -> list[str]:
    """The caption: what the colours mean and which created resources are not drawn."""
    skipped = Counter(
        res["Type"] for res in stack.resources.values() if res["Type"] not in DRAWN_TYPES
    )
    lines = [LEGEND, f"{len(stack.resources)} resources; not drawn:"]
    items = [f"{count} {short_type(name)}" for name, count in sorted(skipped.items())]
    lines += [", ".join(items[i : i + 4]) for i in range(0, len(items), 4)]
    return lines


def _clusters(graph: Graph) -> list[str]:
    """The DOT clusters: one per tier that has nodes, with its caption and fill."""
    captions = {
        **{tier: caption for tier, (caption, _) in TIERS.items()},
        CLIENTS: clients_caption(graph),
    }
    out = []
    for tier, (_, fill) in TIERS.items():
        members = sorted(n for n in graph.nodes.values() if n.tier == tier)
        if not members:
            continue
        out.append(f"  subgraph cluster_{tier} {{")
        out.append(
            f'    label={_quote(captions[tier])}; style="rounded,filled"; '
            f'fillcolor="{fill}"; color="#999999";'
        )
        for node in members:
            style = ', style="rounded,dashed,filled"' if node.external else ""
            out.append(f"    {_quote(node.id)} [label={_label(node.lines)}{style}];")
        out.append("  }")
    return out


def diagram(evaluated: Evaluated) -> str:
    """Graphviz DOT source of an evaluated stack: tiers as clusters, traffic and data as arrows."""
    graph = Graph(evaluated)
    add_load_balancing(graph)
    add_service(graph)
    add_data_and_observability(graph)
    caption = _label(_caption(evaluated), left=True)
    out = [
        "digraph mlflow {",
        f'  graph [rankdir=TB, newrank=true, fontname="Helvetica", fontsize=11, nodesep=0.25, '
        f"ranksep=0.8, labelloc=b, labeljust=l, label={caption}];",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", '
        "fontsize=10];",
        '  edge [fontname="Helvetica", fontsize=9];',
        *_clusters(graph),
    ]
    for edge in sorted(graph.edges):
        label = f"label={_quote(edge.label)}, " if edge.label else ""
        out.append(
            f"  {_quote(edge.source)} -> {_quote(edge.target)} [{label}{EDGE_STYLES[edge.kind]}];"
        )
    out.append("}")
    return "\n".join(out) + "\n"


def render_svg(dot_source: str) -> bytes:
    """SVG from DOT with the Graphviz ``dot`` binary; RuntimeError if it is missing or fails."""
    binary = shutil.which("dot")
    if binary is None:
        raise RuntimeError(
            "Graphviz `dot` is not installed (Debian: apt-get install graphviz); "
            "or write DOT source with --output FILE.dot"
        )
    result = subprocess.run(
        [binary, "-Tsvg"], input=dot_source.encode(), capture_output=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"dot failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout
