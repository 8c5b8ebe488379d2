"""The study tools: they watch the core work and show it, and change nothing it computes.

``trace.py`` (``tl.trace()``: every op and backward step as a table), ``viz.py``
(``tl.viz.to_dot``: the graph as Graphviz), ``explain/`` (``tl.viz.explain``: one step as
a page to walk through in a browser), ``anomaly.py`` (``tl.detect_anomaly()``),
``gradcheck.py`` (``tl.gradcheck``: gradients against finite differences), ``testing.py``
(``tl.testing``: hypothesis strategies) and ``labels.py`` (names for the values they show).
The trace, the anomaly detector and the explainer plug into the core as ``Observer``s
(hooks.py).
"""
