#!/usr/bin/python3
"""tests/train/spark_ref.py - Spark MLlib's streaming update rules, written
out plainly in NumPy, as the reference for sluice's train() (tests/train.sh).

Spark 3.x source this follows (mllib/src/main/scala/org/apache/spark/mllib):
  optimization/GradientDescent.scala  runMiniBatchSGD
  optimization/Gradient.scala         LeastSquaresGradient, LogisticGradient
  optimization/Updater.scala          SimpleUpdater, SquaredL2Updater
  clustering/StreamingKMeans.scala    StreamingKMeansModel.update

StreamingLinearRegressionWithSGD / StreamingLogisticRegressionWithSGD, per
batch (one window), starting from the current weights w:
  for i in 1..iterations:
      sample = rows kept by a Bernoulli(fraction) draw (all rows at 1.0)
      g = sum over sample of  (x.w - y) x                 (least squares)
                          or  (1/(1+exp(-x.w)) - y) x     (logistic)
      if the sample is empty: skip the iteration
      s = step / sqrt(i)
      w = w * (1 - s*reg) - s * (g / n)     (reg only for logistic; else w - s*g/n)
      from the second applied iteration on: stop when
          ||w_prev - w|| < tol * max(||w||, 1)
  intercept => true appends a constant 1 feature: the intercept is the last weight.
Departures sluice documents (docs/models.md): the sampler is splitmix64 seeded
42 + i (Spark: its own RNG with the same seeds); the intercept carries over
between batches (Spark restarts it at 1.0).

StreamingKMeans, per batch: each point to its nearest centre (squared
distance, first minimum); discount = decay (time unit batches) or
decay**n_points; every cluster weight *= discount; for each cluster with
points: w' = w + count, l = count / max(w', 1e-16), c = (1-l) c + (l/count) sum;
then if min weight < 1e-8 * max weight: the largest cluster (first maximum) is
split with the smallest (first minimum): both get (max+min)/2, centres x+p
and x-p, p = 1e-14 * max(|x|, 1).
"""
import math

import numpy as np

MASK = (1 << 64) - 1


def splitmix64(state):
    """One step: returns (new state, output), as src/model_train.c."""
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def uniform(state):
    state, z = splitmix64(state)
    return state, (z >> 11) * 2.0**-53


def gaussian(state):
    state, u1 = uniform(state)
    state, u2 = uniform(state)
    if u1 <= 0:
        u1 = 2.0**-53
    return state, math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2)


def random_centers(k, dim, seed):
    s = seed
    out = np.empty(k * dim)
    for i in range(k * dim):
        s, out[i] = gaussian(s)
    return out.reshape(k, dim)


def sgd_update(w, y, X, step, iterations, fraction=1.0, reg=0.0, tol=0.001,
               logistic=False, intercept=False):
    """One batch of runMiniBatchSGD; w includes the intercept last when asked."""
    w = np.array(w, dtype=float)
    if intercept:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    prev = None
    for i in range(1, iterations + 1):
        if fraction < 1.0:
            s = 42 + i
            keep = []
            for _ in range(X.shape[0]):
                s, u = uniform(s)
                keep.append(u < fraction)
            keep = np.array(keep, dtype=bool)
        else:
            keep = np.ones(X.shape[0], dtype=bool)
        Xs, ys = X[keep], y[keep]
        n = len(ys)
        if n == 0:
            continue
        m = Xs @ w
        mult = (1.0 / (1.0 + np.exp(-m)) - ys) if logistic else (m - ys)
        g = mult @ Xs
        st = step / math.sqrt(i)
        shrink = 1.0 - st * reg if logistic else 1.0
        w = w * shrink - st * (g / n)
        if prev is not None and np.linalg.norm(prev - w) < tol * max(np.linalg.norm(w), 1.0):
            break
        prev = w.copy()
    return w


def kmeans_update(centers, weights, X, decay, points=False):
    centers = np.array(centers, dtype=float)
    weights = np.array(weights, dtype=float)
    k, d = centers.shape
    d2 = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    closest = d2.argmin(axis=1)  # first minimum
    discount = decay ** len(X) if points else decay
    weights *= discount
    for c in range(k):
        pts = X[closest == c]
        cnt = len(pts)
        if cnt == 0:
            continue
        updated = weights[c] + cnt
        lam = cnt / max(updated, 1e-16)
        weights[c] = updated
        centers[c] = centers[c] * (1.0 - lam) + (lam / cnt) * pts.sum(axis=0)
    largest, smallest = int(weights.argmax()), int(weights.argmin())
    if weights[smallest] < 1e-8 * weights[largest]:
        wt = (weights[largest] + weights[smallest]) / 2.0
        weights[largest] = weights[smallest] = wt
        x = centers[largest].copy()
        p = 1e-14 * np.maximum(np.abs(x), 1.0)
        centers[largest] = x + p
        centers[smallest] = x - p
    return centers, weights
