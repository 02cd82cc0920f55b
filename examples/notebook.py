"""WeightWatcher's VGG notebook workflow, on the MNIST VGG family shipped in fixtures/.

The reference notebook analyses each torchvision VGG with ``watcher.analyze()``, takes
``watcher.get_summary()``, and regresses the reported test accuracy on each summary metric, with
a plot per metric. This script does the same steps on ``fixtures/mnist-vgg-mini`` (8
architectures, and one training run exported after 6 epochs; errors in ``errors.csv``), through
the Python package. Run it as a script or, cell by cell (``# %%``), in Jupyter or VS Code:

    pip install .                     # from the repository root; matplotlib for the plots
    python examples/notebook.py [--out DIR]

Figures go to DIR (default: a new temporary directory); nothing else is written. Without
matplotlib the plots are skipped with a message.
"""

# %%
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
import pandas as pd

import tailwatch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "mnist-vgg-mini")
METRICS = ["log_norm", "alpha", "alpha_weighted", "log_alpha_norm", "log_spectral_norm"]

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", help="directory for the figures (default: a temporary directory)")
parser.add_argument("--fixtures", default=FIXTURES, help="the model family's directory")
args = parser.parse_args(sys.argv[1:] if __name__ == "__main__" else [])

# %% The models and their measured test errors (percent), as the notebook's table of
# torchvision's reported errors.
errors = pd.read_csv(os.path.join(args.fixtures, "errors.csv"))
errors = errors[errors["series"].isin(["family", "trajectory"])].reset_index(drop=True)
# Epoch 15 of the trajectory is the family's final vgg11_bn_mini, shipped once (README.md).
errors["file"] = errors["file"].replace({"vgg11_bn_mini_ep15.onnx": "vgg11_bn_mini.onnx"})
print(errors[["series", "name", "top1_err", "top5_err"]].to_string(index=False))

# %% Analyse every model and keep its summary, as the notebook does:
#    watcher = ww.WeightWatcher(model=model); details = watcher.analyze(); watcher.get_summary()
rows = []
for m in errors.itertuples():
    watcher = tailwatch.WeightWatcher(model=os.path.join(args.fixtures, m.file))
    details = watcher.analyze(mp_fit=True)
    summary = watcher.get_summary(details)
    rows.append({"series": m.series, "name": m.name, "top1_err": m.top1_err, **summary})
    print(f"{m.name:>20}: {len(details)} layers, alpha {summary['alpha']:.3f}, "
          f"log_norm {summary['log_norm']:.3f}")
summaries = pd.DataFrame(rows)
summaries["accuracy"] = 100.0 - summaries["top1_err"]

# %% Accuracy against each metric: the notebook's least-squares line, its RMSE and R².
def regression(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    rmse = float(np.sqrt(np.mean(residual**2)))
    r2 = float(1.0 - np.sum(residual**2) / np.sum((y - y.mean()) ** 2))
    return {"slope": float(slope), "intercept": float(intercept), "rmse": rmse, "r2": r2}


fits = []
for series, group in summaries.groupby("series", sort=False):
    for metric in METRICS:
        fit = regression(group[metric].to_numpy(), group["accuracy"].to_numpy())
        fits.append({"series": series, "metric": metric, "n": len(group), **fit})
fits = pd.DataFrame(fits)
print()
print(fits.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
best = fits[fits["series"] == "trajectory"].sort_values("r2", ascending=False).iloc[0]
print(f"\ntrajectory: accuracy is best explained by {best['metric']} (R² {best['r2']:.3f})")

# %% Plots: one panel per metric, accuracy against the metric with the fitted line.
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed: skipping the plots (pip install matplotlib)")
else:
    out = args.out or tempfile.mkdtemp(prefix="tailwatch-notebook-")
    os.makedirs(out, exist_ok=True)
    for series, group in summaries.groupby("series", sort=False):
        fig, axes = plt.subplots(1, len(METRICS), figsize=(4 * len(METRICS), 3.6))
        for ax, metric in zip(axes, METRICS):
            fit = fits[(fits["series"] == series) & (fits["metric"] == metric)].iloc[0]
            x = group[metric].to_numpy()
            ax.scatter(x, group["accuracy"], color="tab:blue")
            for xi, yi, name in zip(x, group["accuracy"], group["name"]):
                ax.annotate(name.replace("_mini", ""), (xi, yi), fontsize=7)
            line = np.linspace(x.min(), x.max(), 50)
            ax.plot(line, fit["slope"] * line + fit["intercept"], color="tab:red")
            ax.set_xlabel(metric)
            ax.set_ylabel("test accuracy (%)")
            ax.set_title(f"R² {fit['r2']:.2f}, RMSE {fit['rmse']:.2f}")
        fig.suptitle(f"mnist-vgg-mini, {series}")
        fig.tight_layout()
        path = os.path.join(out, f"accuracy_vs_metrics_{series}.png")
        fig.savefig(path, dpi=80)
        plt.close(fig)
        print(f"wrote {path}")
