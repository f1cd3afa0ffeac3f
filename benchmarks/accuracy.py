"""Accuracy of usable-information estimates on cases whose answer is known.

Each case draws a training split (the decoder's samples) and a test split of 5,000 samples from a
distribution whose posterior p(y | z) is known exactly, so Shannon's I(Z;Y) is computed on the same
test samples (mean of log2 p(y|z) / p(y)): Gaussian classes with a shared identity covariance
(the posterior is a softmax, so a linear decoder can reach it), Z independent of Y (truth 0), and
XOR of four Gaussian blobs (a linear decoder reads nothing; the MLP decoder is scored there).

On the same samples, scikit-learn's LogisticRegression(C=1e4) (lbfgs, its default 100
iterations; the linear probe compare.sh runs as the peer) is scored with uinfo's H(Y)
convention (the training labels' marginal plus 1/2 per class, on the test labels), and uinfo-probe
gives the plain estimate (the penalty chosen from the data) and the finite-sample-corrected one
(--correct), with its standard error.

Prints one line per case (mean absolute error to the truth over the replicates, for each
estimator; the corrected estimate's bias and how often the truth lies within 2 standard errors)
and the overall means; writes every replicate to OUT/accuracy.csv.

usage: /usr/bin/python3 benchmarks/accuracy.py [--probe build/release/examples/uinfo-probe]
                                               [--reps 10] [--out results/accuracy] [--cases a,b]
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

N_TEST = 5000
LN2 = math.log(2)


def mixture(d, k, sep, prior=None):
    def make(rng):
        means = sep * rng.normal(size=(k, d))
        p = np.full(k, 1 / k) if prior is None else np.asarray(prior, float)

        def draw(n):
            y = rng.choice(k, size=n, p=p)
            return means[y] + rng.normal(size=(n, d)), y

        def log_posterior(z, y):
            log_joint = np.log(p)[None, :] - 0.5 * ((z[:, None, :] - means[None]) ** 2).sum(-1)
            log_joint -= log_joint.max(1, keepdims=True)
            log_post = log_joint - np.log(np.exp(log_joint).sum(1, keepdims=True))
            return log_post[np.arange(len(y)), y] - np.log(p[y])
        return draw, log_posterior
    return make


def independent(d, k):
    return mixture(d, k, 0.0)


def xor(noise):
    centres = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], float)  # label 0, 0, 1, 1

    def make(rng):
        def draw(n):
            blob = rng.integers(0, 4, n)
            return centres[blob] + noise * rng.normal(size=(n, 2)), (blob >= 2).astype(int)

        def log_posterior(z, y):
            density = np.exp(-0.5 * ((z[:, None, :] - centres[None]) ** 2).sum(-1) / noise**2)
            p1 = (density[:, 2] + density[:, 3]) / density.sum(1)
            p = np.where(y == 1, p1, 1 - p1)
            return np.log(np.clip(p, 1e-300, None)) - np.log(0.5)
        return draw, log_posterior
    return make


# name: (distribution, training samples, uinfo decoder)
CASES = {
    "2 classes, 20-D, n=500": (mixture(20, 2, 0.3), 500, "linear"),
    "2 classes, 64-D, n=500": (mixture(64, 2, 0.2), 500, "linear"),
    "2 classes, 64-D, n=2000": (mixture(64, 2, 0.15), 2000, "linear"),
    "2 classes, 10-D, n=5000": (mixture(10, 2, 0.4), 5000, "linear"),
    "3 classes (0.7/0.2/0.1), 5-D, n=2000": (mixture(5, 3, 0.7, [0.7, 0.2, 0.1]), 2000, "linear"),
    "10 classes, 50-D, n=1000": (mixture(50, 10, 0.3), 1000, "linear"),
    "10 classes, 30-D, n=5000": (mixture(30, 10, 0.3), 5000, "linear"),
    "independent, 2 classes, 64-D, n=1000": (independent(64, 2), 1000, "linear"),
    "independent, 10 classes, 50-D, n=1000": (independent(50, 10), 1000, "linear"),
    "XOR, noise 0.5, n=2000": (xor(0.5), 2000, "mlp"),
}


def sklearn_bits(z_train, y_train, z_test, y_test, k):
    clf = LogisticRegression(C=1e4, solver="lbfgs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(z_train, y_train)
    log_p = np.full((len(y_test), k), -np.inf)
    log_p[:, clf.classes_] = clf.predict_log_proba(z_test)
    ce = -log_p[np.arange(len(y_test)), y_test].mean()
    counts = np.bincount(y_train, minlength=k) + 0.5
    h = -np.log(counts / counts.sum())[y_test].mean()
    return (h - ce) / LN2


def uinfo_estimate(probe, decoder, z_train, y_train, z_test, y_test, seed, scratch):
    paths = {}
    for name, array in (("z_train", z_train.astype("<f4")), ("y_train", y_train.astype("<i4")),
                        ("z_test", z_test.astype("<f4")), ("y_test", y_test.astype("<i4"))):
        paths[name] = os.path.join(scratch, name + ".npy")
        np.save(paths[name], array)
    out = subprocess.run([probe, "--z-train", paths["z_train"], "--y-train", paths["y_train"],
                          "--z-test", paths["z_test"], "--y-test", paths["y_test"],
                          "--decoder", decoder, "--correct", "--seed", str(seed)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probe", default=os.path.join(root, "build/release/examples/uinfo-probe"))
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(root, "results/accuracy"))
    parser.add_argument("--cases", default="", help="comma-separated substrings of case names")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    wanted = [c for c in args.cases.split(",") if c]
    rows = []
    print(f"{'case':40s} {'truth':>6s} {'sklearn':>8s} {'plain':>7s} {'corrected':>9s} "
          f"{'ratio':>6s} {'bias':>7s} {'in 2 se':>7s}  (mean absolute error, bits)")
    totals = {"sklearn": [], "plain": [], "corrected": []}
    names = []
    with tempfile.TemporaryDirectory() as scratch:
        for index, (name, (make, n, decoder)) in enumerate(CASES.items()):
            if wanted and not any(w in name for w in wanted):
                continue
            errors = {"sklearn": [], "plain": [], "corrected": []}
            truths, covered = [], 0
            for rep in range(args.reps):
                rng = np.random.default_rng([20261203, index, rep])
                draw, log_posterior = make(rng)
                z_train, y_train = draw(n)
                z_test, y_test = draw(N_TEST)
                truth = log_posterior(z_test, y_test).mean() / LN2
                k = int(max(y_train.max(), y_test.max())) + 1
                sk = sklearn_bits(z_train, y_train, z_test, y_test, k)
                est = uinfo_estimate(args.probe, decoder, z_train, y_train, z_test, y_test, rep,
                                     scratch)
                corrected = est["corrected"]
                errors["sklearn"].append(sk - truth)
                errors["plain"].append(est["bits"] - truth)
                errors["corrected"].append(corrected["bits"] - truth)
                covered += abs(corrected["bits"] - truth) <= 2 * corrected["standard_error_bits"]
                truths.append(truth)
                rows.append({"case": name, "rep": rep, "n_train": n, "decoder": est["decoder"],
                             "truth_bits": truth, "sklearn_bits": sk, "plain_bits": est["bits"],
                             "l2": est["l2"], "l2_selection": est["l2_selection"],
                             "corrected_bits": corrected["bits"],
                             "corrected_se_bits": corrected["standard_error_bits"]})
            mae = {key: float(np.mean(np.abs(v))) for key, v in errors.items()}
            names.append(name)
            for key in totals:
                totals[key].append(mae[key])
            print(f"{name:40s} {np.mean(truths):6.3f} {mae['sklearn']:8.4f} {mae['plain']:7.4f} "
                  f"{mae['corrected']:9.4f} {mae['sklearn'] / max(mae['corrected'], 1e-12):6.1f} "
                  f"{np.mean(errors['corrected']):+7.4f} {covered:3d}/{args.reps:<3d}"
                  + ("   (uinfo: MLP decoder)" if decoder == "mlp" else ""))
            sys.stdout.flush()
    means = {key: float(np.mean(v)) for key, v in totals.items()}
    worse = [name for name, s, c in zip(names, totals["sklearn"], totals["corrected"]) if c > s]
    print(f"{'mean over cases':40s} {'':6s} {means['sklearn']:8.4f} {means['plain']:7.4f} "
          f"{means['corrected']:9.4f} {means['sklearn'] / means['corrected']:6.1f}")
    print("cases where the corrected estimate is worse than scikit-learn's:",
          ", ".join(worse) if worse else "none")
    with open(os.path.join(args.out, "accuracy.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
