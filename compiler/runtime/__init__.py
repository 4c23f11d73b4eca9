"""The runtime: loads a compiled program with libbpf, attaches its probes,
reads events and maps, and prints them as bpftrace does. The only package
that touches libbpf; it needs neither the frontend nor llvmlite to run a
cached program (program.py says what a compiled program is)."""
