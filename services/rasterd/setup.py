"""Builds the Cython core; everything else is declared in pyproject.toml."""

from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

core = Path("src/rasterd/_core")
extensions = [
    Extension(
        f"rasterd._core.{pyx.stem}",
        [str(pyx)],
        include_dirs=[np.get_include(), str(core)],
        extra_compile_args=["-O3"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for pyx in sorted(core.glob("*.pyx"))
]

setup(ext_modules=cythonize(extensions, language_level=3, compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True}))
