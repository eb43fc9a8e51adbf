"""Compiled kernels of rasterd (Cython); use them through rasterd.raster."""
