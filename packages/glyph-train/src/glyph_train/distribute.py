"""The tf.distribute strategy a training run uses (none | mirrored | multi_worker), set up from the config.

The global batch and the learning rate are taken from the config as given: each replica gets
``global_batch / replicas`` examples and the learning rate is never rescaled behind the user's back.
"""

from __future__ import annotations

import json
import os
from typing import Any

from glyph_core.config import DistributeConfig


def configure_devices(config: DistributeConfig) -> None:
    """Split the CPU into logical devices when asked (before TensorFlow starts its runtime)."""
    import tensorflow as tf

    if config.cpu_devices <= 1:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration()] * config.cpu_devices
    if tf.config.get_logical_device_configuration(cpu) == wanted:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, wanted)
    except RuntimeError as exc:
        raise RuntimeError(
            f"cannot split the CPU into {config.cpu_devices} devices: TensorFlow already started in this process ({exc})"
        ) from None


def make_strategy(config: DistributeConfig) -> Any:
    """The configured strategy; 'none' is TensorFlow's default (one device, no replication)."""
    import tensorflow as tf

    configure_devices(config)
    if config.strategy == "none":
        return tf.distribute.get_strategy()
    if config.strategy == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            return tf.distribute.MirroredStrategy([d.name for d in gpus])
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(cpus, cross_device_ops=tf.distribute.ReductionToOneDevice())
    if "TF_CONFIG" not in os.environ:
        raise RuntimeError("distribute.strategy multi_worker needs the TF_CONFIG environment variable (cluster and task)")
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_chief() -> bool:
    """True unless TF_CONFIG names this process as a non-chief worker (only the chief writes outputs)."""
    tf_config = json.loads(os.environ.get("TF_CONFIG", "{}"))
    task, cluster = tf_config.get("task", {}), tf_config.get("cluster", {})
    if not task or task.get("type") == "chief":
        return True
    return task.get("type") == "worker" and task.get("index", 0) == 0 and "chief" not in cluster


def distributed_batches(strategy: Any, make_dataset: Any, global_batch: int) -> Any:
    """Per-pipeline datasets for the strategy: ``make_dataset(per_replica_batch, shard)`` -> tf.data.Dataset."""
    import tensorflow as tf

    if strategy.num_replicas_in_sync == 1 and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return make_dataset(global_batch, (0, 1))
    if global_batch % strategy.num_replicas_in_sync:
        raise ValueError(f"global batch {global_batch} does not split evenly over {strategy.num_replicas_in_sync} replicas")

    def per_pipeline(context: Any) -> Any:
        batch = context.get_per_replica_batch_size(global_batch)
        return make_dataset(batch, (context.input_pipeline_id, context.num_input_pipelines))

    return strategy.distribute_datasets_from_function(per_pipeline)
