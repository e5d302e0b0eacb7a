"""Export to and import from NIR, the Neuromorphic Intermediate Representation."""
