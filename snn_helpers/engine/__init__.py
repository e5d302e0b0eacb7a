"""How the LIF layers are computed: the surrogate derivatives, the compiled CPU kernels, the choice of engine (and why), and subnormals flushed around the package's work."""
