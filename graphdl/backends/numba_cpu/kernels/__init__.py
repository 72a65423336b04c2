"""Library kernels compiled once per dtype, cached on disk, called from generated code."""
