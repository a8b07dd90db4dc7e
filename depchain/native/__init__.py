"""The native layer: ELF links, the system loader, OS package ownership, and the build
metadata that compilers leave in binaries."""
