"""The engine's one compiled module; everything else is in pyproject.toml.

``silent_scalper.engine._native`` (counts over the text the engine reads,
docs/performance.md) is built by the install, in place for an editable one. Optional:
without a C compiler the install goes on and the engine runs the same counts in Python.
Lambda's arm64 copy is built by ``sam build`` (layers/core/Makefile).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "silent_scalper.engine._native",
            sources=["layers/core/silent_scalper/engine/_native.c"],
            py_limited_api=True,
            # A function outside the limited API is undeclared there: an error, not a
            # warning and a pointer cut to an int.
            extra_compile_args=["-Werror=implicit-function-declaration"],
            optional=True,
        )
    ]
)
