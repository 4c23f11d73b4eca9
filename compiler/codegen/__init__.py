"""Codegen: the typed AST to LLVM IR (llvmlite) to a BPF object, with the
description the runtime needs (compiler.runtime.program)."""
