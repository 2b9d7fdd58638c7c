"""Connected components of an identity graph whose nodes are record ids."""

from __future__ import annotations

import numpy as np
import pandas as pd


def components(nodes: pd.Series, edges: pd.DataFrame) -> pd.DataFrame:
    """Cluster ``nodes`` by the undirected ``edges`` (columns ``left``, ``right``).

    Returns ``record_id``, ``cluster_id`` for every node; an edge to an unknown node is ignored.
    The cluster id is the smallest record id in the component, so it is stable for a given graph.
    """
    ids = pd.Index(pd.unique(nodes.astype(str)))
    left = ids.get_indexer(edges["left"].astype(str))
    right = ids.get_indexer(edges["right"].astype(str))
    known = (left >= 0) & (right >= 0)
    n = len(ids)
    from scipy.sparse import coo_matrix  # here, not at import: every run loads this module
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix(
        (np.ones(int(known.sum()), dtype=np.int8), (left[known], right[known])), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    frame = pd.DataFrame({"record_id": ids, "label": labels})
    frame["cluster_id"] = frame.groupby("label")["record_id"].transform("min")
    return frame[["record_id", "cluster_id"]]
