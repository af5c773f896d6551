"""matplotlib set up once for every plot the service draws (analytics, the bone health review, the
population report): no display, SVG whose text stays text so the browser draws any script (Chinese
override reasons, drug names), and stable element ids so the same data gives the same SVG."""

from __future__ import annotations

import base64
import io
from typing import Any


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend; imported on first use, so a hook call never loads it."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "bonemet"
    import matplotlib.pyplot as plt

    return plt


def svg_data_uri(figure: Any) -> str:
    """The figure as an SVG `data:` URI for an `<img>` (allowed by `img-src data:`; inline `<svg>` would
    need its `style` attributes allowed by the CSP), and the figure closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    pyplot().close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
