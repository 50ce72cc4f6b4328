"""One patcher per framework; each applies its wrappers into a PatchSet."""
