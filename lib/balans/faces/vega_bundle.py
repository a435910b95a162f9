"""The charts' offline Vega bundle: made once per server, and sent once per page.

Altair's ``JupyterChart.enable_offline()`` asks vl-convert to bundle Vega, Vega-Lite and
vega-embed with the widget's JavaScript and puts the 0.9 MB of text in the widget's ``_esm``.
That cost twice:

- in the kernel: vl-convert bundles in a JavaScript engine of its own (Deno/V8) that starts
  in the calling process and stays there, about 1 s and 125 MB of each kernel's own memory
  (USS; ``docs/kernel_cost.md``), for the same text every time;
- in the browser: every chart is a widget of its own whose state carries the whole bundle,
  so a page received it three times over the websocket and compiled it three times (six
  with the second tab, more with the analysis).

``balans app`` makes the bundle once, in a short-lived process (``python -m
balans.faces.vega_bundle FOLDER``), into a file named by its hash; Voilà serves it at
``/balans/jupyterchart-<hash>.js`` (a same-origin script, allowed by the page's policy) and
the kernels learn its name from ``BALANS_VEGA_BUNDLE``. :func:`enable_offline` then gives the
widget class, where Altair's own ``enable_offline`` puts the bundle, a three-line module that
imports the file: the browser fetches and compiles it once per page, every chart shares it,
and no kernel imports vl-convert. The file is Altair's own bundle, made by the same call, so
the charts are the same. Without the variable (the workbench in JupyterLab, tests) it is
Altair's ``enable_offline`` as before.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ENV = "BALANS_VEGA_BUNDLE"  # the bundle file the app's kernels read (balans app sets it)


def bundle_url_path(path: str | Path) -> str:
    """Where the server serves the bundle, below its base URL."""
    return f"balans/{Path(path).name}"


# The widget's module: it imports the served bundle (relative to the page's base URL, from
# Voilà's page config) and hands on its default export, {render}.
STUB = """const c = document.getElementById("jupyter-config-data");
const base = (c && JSON.parse(c.textContent).baseUrl) || "/";
const m = await import(new URL(base + "{path}", window.location.href).href);
export default m.default;
"""


def enable_offline(alt: Any = None) -> str:
    """Make ``alt.JupyterChart`` draw with the offline bundle, no CDN. Returns how: ``"url"``
    (the bundle the server serves, ``BALANS_VEGA_BUNDLE``) or ``"vl-convert"``."""
    if alt is None:
        import altair as alt
    chart_class = alt.JupyterChart
    if getattr(chart_class, "_is_offline", False):
        return "already"
    path = os.environ.get(ENV)
    if path and Path(path).is_file():
        chart_class._esm = STUB.replace("{path}", bundle_url_path(path))
        chart_class._is_offline = True
        return "url"
    chart_class.enable_offline()
    return "vl-convert"


def write_bundle(folder: Path) -> Path:
    """Make the bundle with Altair's own ``enable_offline``; write it into ``folder`` as
    ``jupyterchart-<hash>.js`` (a new bundle, a new name: no browser keeps an old one)."""
    import hashlib

    import altair as alt

    alt.JupyterChart.enable_offline()
    text = alt.JupyterChart._esm
    if not isinstance(text, str) or not text:
        raise RuntimeError("altair's JupyterChart has no offline bundle")
    data = text.encode("utf-8")
    path = Path(folder) / f"jupyterchart-{hashlib.sha256(data).hexdigest()[:16]}.js"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


if __name__ == "__main__":
    print(write_bundle(Path(sys.argv[1])))
