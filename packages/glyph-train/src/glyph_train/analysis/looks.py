"""Where Phase 2 looks (docs/analysis.md): one weight per grid cell for one label on one grid.

- Residual CNN: Grad-CAM on the last feature map at the grid's own resolution (one value per cell):
  the gradient of the label's logit, averaged over the map, weights its channels; negative evidence
  is clipped.
- Transformer: attention rollout; each block's head-averaged attention, with the residual path added
  as the identity, multiplied through the blocks, read from the CLS token (or averaged over tokens
  for mean pooling) and spread over the cells of each patch.

Both are normalized to a maximum of 1 per glyph.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from glyph_train.phase2.backbones import ResidualCnnBackbone, TransformerBackbone


def _normalized(maps: np.ndarray) -> np.ndarray:
    peak = maps.reshape(len(maps), -1).max(axis=1)
    return maps / np.where(peak > 0, peak, 1.0)[:, None, None]


def _grid_resolution_layer(backbone: keras.Model, side: int) -> str:
    """Name of the backbone's last layer whose output is a (side, side, C) map."""
    names = [layer.name for layer in backbone.layers if tuple(layer.output.shape[1:3]) == (side, side) and len(layer.output.shape) == 4]
    if not names:
        raise ValueError(f"the backbone has no {side}x{side} feature map")
    return names[-1]


def _grad_cam(phase2: keras.Model, grids: np.ndarray, side: np.ndarray, labels: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    backbone = phase2.backbone
    g = grids.shape[1]
    inner = keras.Model(backbone.input, [backbone.get_layer(_grid_resolution_layer(backbone, g)).output, backbone.output])
    logits_layer = phase2.get_layer("logits")
    embedded = phase2.embedding([tf.constant(grids, tf.int32), tf.constant(side, tf.float32)])
    with tf.GradientTape() as tape:
        feature_map, features = inner(embedded, training=False)
        logits = logits_layer(features)
        chosen = tf.gather(logits, tf.constant(labels, tf.int32), axis=1, batch_dims=1)
    gradients = tape.gradient(chosen, feature_map)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * feature_map, axis=-1))
    return np.asarray(cam, dtype=np.float32)


def _attention_rollout(phase2: keras.Model, grids: np.ndarray, side: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    backbone = phase2.backbone
    config = backbone.config_values
    blocks, patch, cls = int(config["layers_count"]), int(config["patch"]), config["pool"] == "cls"
    inputs = keras.Model(backbone.input, [backbone.get_layer(f"block{i + 1}_norm1").output for i in range(blocks)])
    embedded = phase2.embedding([tf.constant(grids, tf.int32), tf.constant(side, tf.float32)])
    normed = inputs(embedded, training=False)
    normed = normed if isinstance(normed, list | tuple) else [normed]
    rollout = None
    for i, h in enumerate(normed):
        _, scores = backbone.get_layer(f"block{i + 1}_attention")(h, h, return_attention_scores=True, training=False)
        attention = np.asarray(scores, dtype=np.float64).mean(axis=1)  # (n, T, T) over heads
        attention = 0.5 * attention + 0.5 * np.eye(attention.shape[-1])[None]
        attention /= attention.sum(axis=-1, keepdims=True)
        rollout = attention if rollout is None else attention @ rollout
    weights = rollout[:, 0, 1:] if cls else rollout.mean(axis=1)
    tokens = grids.shape[1] // patch
    per_patch = weights.reshape(len(grids), tokens, tokens)
    return np.kron(per_patch, np.ones((1, patch, patch))).astype(np.float32)


def cell_maps(phase2: keras.Model, grids: np.ndarray, side: np.ndarray, labels: np.ndarray, batch_size: int = 64) -> tuple[np.ndarray, str]:
    """(n, G, G) weights in [0, 1] of the cells behind ``labels`` on ``grids``, and the method's name."""
    backbone: Any = phase2.backbone
    if isinstance(backbone, ResidualCnnBackbone):
        method, compute = "Grad-CAM", lambda g, s, y: _grad_cam(phase2, g, s, y)
    elif isinstance(backbone, TransformerBackbone):
        method, compute = "attention rollout", lambda g, s, y: _attention_rollout(phase2, g, s)
    else:
        raise ValueError(f"no cell map for a {type(backbone).__name__} backbone")
    parts = [
        compute(grids[i : i + batch_size], side[i : i + batch_size], labels[i : i + batch_size]) for i in range(0, len(grids), batch_size)
    ]
    g = grids.shape[1]
    return (_normalized(np.concatenate(parts)) if parts else np.zeros((0, g, g), np.float32)), method
