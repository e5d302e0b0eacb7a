"""What the notebooks measure and draw: figures, read-outs of the spike counts, the SNN against an ANN (operations and energy), and accuracy against the number of time steps."""
