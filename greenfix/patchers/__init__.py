"""One patcher per framework; each applies its wrappers into a PatchSet."""

from __future__ import absolute_import
