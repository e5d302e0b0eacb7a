"""The SNN library: MNIST, spike encodings, LIF neurons, the SNN, checkpoints, training and inference, and the named training recipes. A regular install of this part alone trains."""
