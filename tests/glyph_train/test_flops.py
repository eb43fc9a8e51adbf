"""FLOPs per example as the evaluation reports them, on layers whose cost is known by hand."""

from __future__ import annotations

import keras
import tensorflow as tf

from glyph_train.evaluate.flops import count_flops


def test_dense_costs_two_flops_per_weight_plus_the_bias():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    assert count_flops(model, tf.TensorSpec((1, 4), tf.float32)) == 2 * 4 * 3 + 3


def test_convolution_and_dict_inputs_are_counted():
    a, b = keras.Input((8, 8, 1), name="a"), keras.Input((2,), name="b")
    conv = keras.layers.Conv2D(5, 3, padding="same", use_bias=False)(a)
    out = keras.layers.Dense(1, use_bias=False)(b)
    model = keras.Model({"a": a, "b": b}, [conv, out])
    spec = {"a": tf.TensorSpec((1, 8, 8, 1), tf.float32), "b": tf.TensorSpec((1, 2), tf.float32)}
    assert count_flops(model, spec) == 2 * 8 * 8 * 9 * 5 + 2 * 2
