import io
import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read(*parts):
    with io.open(os.path.join(HERE, *parts), encoding="utf-8") as handle:
        return handle.read()


VERSION = re.search(r'^__version__ = "([^"]+)"', read("greenfix", "__init__.py"), re.M).group(1)

setup(
    name="greenfix",
    version=VERSION,
    description="Resolve host names in eventlet and gevent socket calls without freezing the hub",
    long_description=read("README.md"),
    long_description_content_type="text/markdown",
    license="MIT",
    url="https://github.com/greenfix/greenfix",
    project_urls={
        "Documentation": "https://github.com/greenfix/greenfix/tree/main/docs",
        "Source": "https://github.com/greenfix/greenfix",
        "Issues": "https://github.com/greenfix/greenfix/issues",
    },
    packages=find_packages(include=["greenfix", "greenfix.*"]),
    package_data={"greenfix": ["py.typed", "*.pyi"]},
    python_requires=">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*, !=3.5.*",
    install_requires=[
        "six>=1.14",  # six.wraps tolerating C methods without __module__ on 2.7
        'dnspython>=1.16,<2; python_version < "3"',
        'dnspython>=2.2; python_version >= "3"',
    ],
    # the framework is the application's choice: greenfix patches the one
    # that monkey-patched the process (docs/usage.rst)
    extras_require={
        # the oldest eventlet CI runs is 0.33.3, the last for Python 2.7
        "eventlet": ['eventlet>=0.33.3,<0.34; python_version < "3"',
                     'eventlet>=0.33.3; python_version >= "3"'],
        # the oldest gevent CI runs is 21.12.0 (py38); 22.10.2 on Python 2.7
        "gevent": ["gevent>=21.12"],
        # benchmarks/bench_compare.py --plot out.png
        "plot": ["matplotlib"],
    },
    entry_points={
        "console_scripts": ["greenfix = greenfix.cli:main"],
        # the hub-watchdog plugin: inert unless asked (docs/watchdog.rst)
        "pytest11": ["greenfix = greenfix.pytest_plugin"],
    },
    classifiers=[
        "Development Status :: 4 - Beta",
        "Intended Audience :: Developers",
        "License :: OSI Approved :: MIT License",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: Python :: 2",
        "Programming Language :: Python :: 2.7",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.6",
        "Programming Language :: Python :: 3.7",
        "Programming Language :: Python :: 3.8",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Internet :: Name Service (DNS)",
    ],
)
