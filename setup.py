"""The C extension: compiled item codecs (``dynamorm_async/convert/_speedups.c``).

Everything else about the package is in ``pyproject.toml``. The extension is
optional: where it cannot be built (no C compiler, not CPython), the package is
installed without it and uses the generated Python codecs, which give the same
results (docs/performance.md).
"""

import platform

from setuptools import Extension, setup

extensions = []
if platform.python_implementation() == "CPython":
    extensions.append(
        Extension(
            "dynamorm_async.convert._speedups",
            ["dynamorm_async/convert/_speedups.c"],
            optional=True,
        )
    )

setup(ext_modules=extensions)
