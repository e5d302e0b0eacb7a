"""What the rest stands on: argument checks, atomic writes, devices and timing, this process's share of the CPUs, the CPU a figure was measured on, and where files go."""
