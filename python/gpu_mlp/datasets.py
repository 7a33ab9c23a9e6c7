"""Datasets as `keras.datasets` gives them: `load_data()` returns `(x_train, y_train),
(x_test, y_test)` as uint8 arrays, images 28×28, from the files gpu-mlp finds (installed with
Debian's dataset packages, `gpu-mlp download`, $GPU_MLP_DATA or ./data/<name>/);
`class_names` says what labels 0–9 are, with or without the files."""

import numpy as np

from . import _core


class _Images:
    def __init__(self, name):
        self._name = name
        self.class_names = _core.class_names(name)

    def load_data(self, data_dir=None):
        (x_train, y_train), (x_test, y_test), self.class_names = _core.load_dataset(self._name, data_dir)
        shape = lambda x: x.reshape(x.shape[0], 28, 28)  # noqa: E731
        return (shape(x_train), y_train.astype(np.uint8)), (shape(x_test), y_test.astype(np.uint8))


fashion_mnist = _Images("fashion")
mnist = _Images("mnist")
