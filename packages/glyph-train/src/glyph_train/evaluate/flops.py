"""Inference FLOPs of a Keras model per example, counted by TensorFlow's profiler on the frozen graph.

Counted at batch 1, two FLOPs per multiply-add, over the ops TensorFlow has a FLOP statistic for
(matrix products, convolutions, elementwise arithmetic); table lookups count as free.
"""

from __future__ import annotations

from typing import Any


def count_flops(model: Any, spec: Any) -> int | None:
    """FLOPs of one forward pass; ``spec`` is a tf.TensorSpec (or a dict of them) with batch 1. None if uncountable."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    # The v1 profiler announces its own deprecation on every call; the count is all that is wanted.
    verbosity = tf.compat.v1.logging.get_verbosity()
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    try:
        function = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
        frozen = convert_variables_to_constants_v2(function)
        builder = tf.compat.v1.profiler.ProfileOptionBuilder
        options = builder(builder.float_operation()).with_empty_output().build()
        info = tf.compat.v1.profiler.profile(graph=frozen.graph, run_meta=tf.compat.v1.RunMetadata(), cmd="op", options=options)
    except (ValueError, TypeError, tf.errors.OpError):
        return None
    finally:
        tf.compat.v1.logging.set_verbosity(verbosity)
    return int(info.total_float_ops)
