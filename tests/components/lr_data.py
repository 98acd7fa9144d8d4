"""Test data for the LR components: the demo tables with the guest's label split out (DataTransform's job)."""

from __future__ import annotations

import numpy as np

from fedloom.storage.frame import Frame


def labelled(raw: Frame, label_name: str = "y") -> Frame:
    """`raw` with column `label_name` moved from the features to the label."""
    j = raw.feature_names.index(label_name)
    keep = [k for k in range(len(raw.feature_names)) if k != j]
    return Frame(
        ids=raw.ids,
        features=np.ascontiguousarray(raw.features[:, keep]),
        feature_names=[raw.feature_names[k] for k in keep],
        label=raw.features[:, j].astype(np.float64),
        label_name=label_name,
        id_name=raw.id_name,
    )
