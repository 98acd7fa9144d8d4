"""What `fedloom demo` prints after its job: PSI count, output preview, metrics, AUC/KS vs scikit-learn."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fedloom.cli.tracking import render_metrics, render_output_preview
from fedloom.client import FedloomClient, Pipeline
from fedloom.client.errors import ApiError

PREVIEW_ROWS = 5


def print_results(
    console: Console, client: FedloomClient, job_id: str, pipeline: Pipeline, party: tuple[str, int]
) -> None:
    """Each section is read on its own: one that cannot be read is noted, the others still show."""
    role, party_id = party
    console.print(f"[bold]5.[/] results of job {escape(job_id)} at {role} {party_id}")
    if "intersection_0" in pipeline.components:
        _section(console, "intersection", lambda: _print_intersection(console, client, job_id, party))
    last = pipeline.components[-1]
    _section(console, "output data", lambda: _print_preview(console, client, job_id, last, party))
    for component in pipeline.components:
        if component.startswith("evaluation"):
            continue  # its curves are long: print_evaluation shows the summary next to scikit-learn
        show = partial(_print_metrics, console, client, job_id, component, party)
        _section(console, f"{component} metrics", show)


def print_evaluation(
    console: Console,
    client: FedloomClient,
    job_id: str,
    party: tuple[str, int],
    pooled: tuple[Path, Path],
) -> None:
    """AUC and KS of the federated model next to a LogisticRegression on the pooled (guest, host) CSVs."""
    metrics = client.tracking.metric_all(job_id, "evaluation_0", *party)
    scores = evaluation_scores(metrics)
    auc, ks = baseline_auc_ks(*pooled)
    table = Table(title="evaluation (train data)", header_style="bold")
    for column in ("metric", "fedloom (federated)", "scikit-learn (pooled data)"):
        table.add_column(column)
    for name, baseline in (("auc", auc), ("ks", ks)):
        table.add_row(name.upper(), _fmt(scores.get(name)), _fmt(baseline))
    console.print(table)


def evaluation_scores(metric_all: Mapping[str, Any]) -> dict[str, float]:
    """`{"auc": .., "ks": ..}` from Evaluation's EVALUATION_SUMMARY metric (FATE's layout)."""
    for by_name in metric_all.values():
        for metric in (by_name or {}).values():
            if (metric.get("meta") or {}).get("metric_type") == "EVALUATION_SUMMARY":
                points = metric.get("data") or []
                return {str(k).lower(): float(v) for k, v in points if isinstance(v, int | float)}
    return {}


def baseline_auc_ks(guest_csv: Path, host_csv: Path) -> tuple[float, float]:
    """Train and score LogisticRegression on the guest and host features joined on id (no federation)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score, roc_curve
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = pooled_rows(guest_csv, host_csv)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(features, labels)
    scores = model.predict_proba(features)[:, 1]
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(roc_auc_score(labels, scores)), float(np.max(tpr - fpr))


def pooled_rows(guest_csv: Path, host_csv: Path, label: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """Rows present at both parties: guest features + host features, and the guest's label."""
    guest_header, guest = _read_csv(guest_csv)
    host_header, host = _read_csv(host_csv)
    label_at = guest_header.index(label) - 1
    ids = [i for i in guest if i in host]
    guest_x = [[float(v) for j, v in enumerate(guest[i]) if j != label_at] for i in ids]
    host_x = [[float(v) for v in host[i]] for i in ids]
    features = np.hstack([np.array(guest_x), np.array(host_x)]) if host_header[1:] else np.array(guest_x)
    return features, np.array([int(float(guest[i][label_at])) for i in ids])


def _read_csv(path: Path) -> tuple[list[str], dict[str, list[str]]]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, {row[0]: row[1:] for row in reader if row}


def _print_intersection(console: Console, client: FedloomClient, job_id: str, party: tuple[str, int]) -> None:
    summary = client.tracking.summary(job_id, "intersection_0", *party)
    count = summary.get("intersect_num")
    if count is None:
        totals = (client.tracking.output_data(job_id, "intersection_0", *party).meta or {}).get("total") or []
        count = totals[0] if totals else "?"
    rate = summary.get("intersect_rate")
    console.print(
        f"   intersection: {count} shared ids" + (f" (rate {rate:.3f})" if isinstance(rate, float) else "")
    )


def _print_preview(
    console: Console, client: FedloomClient, job_id: str, component: str, party: tuple[str, int]
) -> None:
    render_output_preview(
        console, component, client.tracking.output_data(job_id, component, *party), PREVIEW_ROWS
    )


def _print_metrics(
    console: Console, client: FedloomClient, job_id: str, component: str, party: tuple[str, int]
) -> None:
    data = client.tracking.metric_all(job_id, component, *party)
    if data:
        render_metrics(console, data)


def _section(console: Console, what: str, show: Callable[[], None]) -> None:
    try:
        show()
    except ApiError as exc:  # one unreadable section must not hide the others
        console.print(f"   [dim]{escape(what)}: not available ({escape(exc.message)})[/]")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


__all__ = ["baseline_auc_ks", "evaluation_scores", "pooled_rows", "print_evaluation", "print_results"]
